"""Every word the pages show, in Chinese and English, one table per area; `t(key)` in a template picks the
page's language. A key missing from the table fails the page's test (KeyError), never a blank on screen."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from api.pages.lang import Lang
from api.pages.texts import (
    common,
    console,
    console_board,
    console_evidence,
    console_kpis,
    console_reports,
    console_review,
    console_setup,
    console_surveys,
    owner,
    survey,
    tickets,
)

Words = Mapping[str, tuple[str, str]]  # key -> (中文, English)


def _merge(*tables: Words) -> dict[str, tuple[str, str]]:
    merged: dict[str, tuple[str, str]] = {}
    for table in tables:
        if twice := merged.keys() & table.keys():
            raise ValueError(f"page texts declared twice: {sorted(twice)}")
        merged.update(table)
    return merged


TEXTS = _merge(
    common.WORDS,
    survey.WORDS,
    owner.WORDS,
    tickets.WORDS,
    console.WORDS,
    console_review.WORDS,
    console_setup.WORDS,
    console_surveys.WORDS,
    console_board.WORDS,
    console_evidence.WORDS,
    console_kpis.WORDS,
    console_reports.WORDS,
)


def translator(lang: Lang) -> Callable[..., str]:
    index = 0 if lang == "zh" else 1

    def t(key: str, **values: object) -> str:
        text = TEXTS[key][index]
        return text.format(**values) if values else text

    return t


def in_lang(message: str, lang: Lang) -> str:
    """One language of a domain message written "English / 中文" (core.errors' style); the whole message when
    it is not written that way."""
    english, sep, chinese = message.rpartition(" / ")
    if not sep:
        return message
    return chinese if lang == "zh" else english
