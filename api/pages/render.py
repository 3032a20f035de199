"""Rendering a page: the template environment, what every template is given, and the headers every page sends."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Accept, Cookie
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from api.pages.lang import COOKIE, Lang, chosen, lang_of
from api.pages.texts import in_lang, translator

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
YEAR = 365 * 24 * 3600

# The survey link's token is in the address: no page may leak it to another site (Referrer-Policy), load
# anything from elsewhere, or be framed. Photos are served by the app itself.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
    "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    # a page's language follows these (and the link's address also answers JSON by Accept)
    "Vary": "Accept, Accept-Language, Cookie",
}


@cache
def static_url(name: str) -> str:
    """The address of a static file, changing whenever its content does (so browsers may keep it a year)."""
    version = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={version}"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,  # a name a template misspells fails its test instead of showing nothing
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates change with a deploy, not while the server runs
    )
    environment.globals["static_url"] = static_url
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def wants_html(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """A browser asks for text/html before anything else; an API client (or curl's */*) gets JSON."""
    accept = Accept(connection.headers.get("accept", ""))
    return accept.best_match(["application/json", "text/html"], default="application/json") == "text/html"


def with_query(connection: ASGIConnection[Any, Any, Any, Any], **changes: str | None) -> str:
    """This page's path with some query parameters changed (None drops one)."""
    query = {key: value for key, value in connection.query_params.items() if key not in changes}
    query.update({key: value for key, value in changes.items() if value is not None})
    return connection.url.path + (f"?{urlencode(query)}" if query else "")


def page(
    request: Request[Any, Any, Any],
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    lang: Lang | None = None,
    cookies: list[Cookie] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Template:
    """The template `name` in the page's language, with what every page needs: `t` (the words), `lang`,
    `lang_url` (the same page in the other language), `message` (a domain message in this language)."""
    lang = lang or lang_of(request)
    other: Lang = "en" if lang == "zh" else "zh"
    given = [*(cookies or [])]
    if chosen(request.query_params.get("lang")):
        given.append(Cookie(key=COOKIE, value=lang, max_age=YEAR, path="/", samesite="lax", httponly=True))
    return Template(
        template_name=name,
        context={
            "lang": lang,
            "t": translator(lang),
            "message": lambda text: in_lang(text, lang),
            "lang_url": with_query(request, lang=other),
            **(context or {}),
        },
        status_code=status,
        media_type="text/html",  # Litestar adds the charset
        headers={**HEADERS, **(headers or {})},
        cookies=given,
    )
