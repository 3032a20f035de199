"""Which language a page speaks: Chinese unless the person chose English (`?lang=en`, remembered in a cookie) or
their browser prefers English before Chinese."""

from __future__ import annotations

from typing import Any, Literal

from litestar.connection import ASGIConnection

Lang = Literal["zh", "en"]
COOKIE = "lang"
LANGS: tuple[Lang, ...] = ("zh", "en")


def chosen(value: str | None) -> Lang | None:
    """A language asked for by name (a query or the cookie), if it is one of ours."""
    return next((lang for lang in LANGS if value == lang), None)


def lang_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Lang:
    asked = chosen(connection.query_params.get("lang")) or chosen(connection.cookies.get(COOKIE))
    if asked:
        return asked
    return from_accept_language(connection.headers.get("accept-language", ""))


def from_accept_language(header: str) -> Lang:
    """English only when the browser ranks an English tag above every Chinese one; Chinese otherwise."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag:
            ranked.append((-quality, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "zh"
