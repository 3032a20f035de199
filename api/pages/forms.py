"""A console form's values into a domain's input Struct, and the domain's refusals back beside the fields.

A form sends text: empty optional fields are left out, numbers are read as numbers; the shape's own constraints
and the use case's checks decide the rest, and what they refuse is said beside its field (by the field's name as
the domain gives it) while the form keeps what was typed."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
import msgspec

from api.pages.lang import Lang
from api.pages.texts import in_lang, translator
from core.errors import Conflict, Invalid

S = TypeVar("S", bound=msgspec.Struct)
T = TypeVar("T")
_PATH = re.compile(r"at `\$\.([A-Za-z_.]+)")
_MISSING = re.compile(r"missing required field `([A-Za-z_]+)`")


class Refused(Exception):
    """What to show beside each field (key "form": above the form) and the status to answer with."""

    def __init__(self, errors: dict[str, str], status: int = 422) -> None:
        super().__init__(errors)
        self.errors, self.status = errors, status


def form_text(form: Mapping[str, Any], fields: Iterable[str]) -> dict[str, str]:
    """Each of a form's `fields` as the text typed, trimmed ("" for a field not sent)."""
    return {field: str(form.get(field) or "").strip() for field in fields}


def converted(given: Mapping[str, Any], shape: type[S], lang: Lang) -> S:
    """`given` as `shape`; Refused naming the field msgspec found wrong (one at a time, as msgspec finds them)."""
    try:
        return msgspec.convert(dict(given), shape)
    except msgspec.ValidationError as wrong:
        text = str(wrong)
        if missing := _MISSING.search(text):
            raise Refused({missing.group(1): translator(lang)("console.setup.required")}) from None
        field = _PATH.search(text)
        raise Refused({field.group(1).split(".")[-1] if field else "form": text.split(" - at ")[0]}) from None


def number(text: str, field: str, lang: Lang, *, real: bool = False) -> int | float | None:
    """A typed number (None when left empty); Refused beside `field` when it is not one."""
    if not text.strip():
        return None
    try:
        return float(text) if real else int(text)
    except ValueError:
        raise Refused({field: translator(lang)("console.setup.number")}) from None


@asynccontextmanager
async def refusals(conn: asyncpg.Connection, lang: Lang, fields: Callable[[str], str] = lambda f: f):  # type: ignore[no-untyped-def]
    """Run a use case in a savepoint: its Invalid (each field's message) or Conflict becomes Refused, and whatever
    it wrote before refusing is undone. `fields` maps a domain's field name to the form's."""
    try:
        async with conn.transaction():
            yield
    except Invalid as invalid:
        errors = {fields(e.field): in_lang(e.message, lang) for e in invalid.errors}
        raise Refused(errors or {"form": in_lang(invalid.detail, lang)}) from None
    except Conflict as conflict:
        field = str(conflict.extra.get("field") or "form")
        raise Refused({fields(field): in_lang(conflict.detail, lang)}, status=409) from None


async def attempt(conn: asyncpg.Connection, lang: Lang, call: Callable[[], Awaitable[T]]) -> T:
    async with refusals(conn, lang):
        return await call()
