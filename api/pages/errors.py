"""A page that fails shows a page: the same status the API would give (the one table in api/errors.py decides
it, and logs what it logs), said in the person's language, with a way back. A page that needs a signed-in owner
sends a stranger to the sign-in page instead."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import MethodNotAllowedException, NotFoundException, PermissionDeniedException
from litestar.response import Redirect

from api.errors import EXCEPTION_HANDLERS
from api.pages.lang import lang_of
from api.pages.render import page, wants_html
from api.pages.texts import TEXTS, in_lang
from core.errors import DomainError, Unauthorized

SIGN_IN = "/owner/sign-in"
CONSOLE_SIGN_IN = "/console/sign-in"
# refusals a page words more kindly than the API's one line: by the error's code, else by the entity it names
FRIENDLIER = {
    "survey_link_revoked": "link.revoked",
    "survey_link": "link.unknown",
    "rectification_order": "console.review.not_found",
    "property": "property.unknown",
}


def _api_answer(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    for kind in type(exc).__mro__:
        if handler := EXCEPTION_HANDLERS.get(kind):
            answer: Response[Any] = handler(request, exc)  # type: ignore[operator]
            return answer
    raise exc  # unreachable: Exception is in the table


def on_page_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if not wants_html(request):  # an API client on a route that also serves pages
        return _api_answer(request, exc)
    if isinstance(exc, Unauthorized) and (to := _sign_in_for(request.url.path)):
        return Redirect(f"{to}?next={_here(request)}", status_code=303)
    lang = lang_of(request)
    csrf = isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail)
    answer = None if csrf else _api_answer(request, exc)
    status = answer.status_code or 500 if answer else 403
    kept = {k: v for k, v in (answer.headers.items() if answer else []) if k.lower() == "retry-after"}
    if csrf:
        detail = TEXTS["error.csrf"][0 if lang == "zh" else 1]
    elif isinstance(exc, DomainError) and status < 500:
        kinder = FRIENDLIER.get(exc.code) or FRIENDLIER.get(str(exc.extra.get("entity", "")))
        detail = TEXTS[kinder][0 if lang == "zh" else 1] if kinder else in_lang(exc.detail, lang)
    else:
        detail = ""
    return error_page(request, status, detail, headers=kept, heading="error.csrf.title" if csrf else "")


def error_page(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    heading: str = "",
) -> Response[Any]:
    key = heading or (f"error.{status}" if f"error.{status}" in TEXTS else "error.title")
    context = {"status": status, "heading": key, "detail": detail, "back": _way_back(request.url.path)}
    return page(request, "error.html", context, status=status, headers=headers)


def _here(request: Request[Any, Any, Any]) -> str:
    """This page's path and query, as a query parameter's value (the page to come back to after signing in)."""
    query = request.url.query
    return quote(request.url.path + (f"?{query}" if query else ""), safe="/")


def _sign_in_for(path: str) -> str:
    """The sign-in page of the pages at `path` (none for the survey link, which needs no sign-in)."""
    if path.startswith("/owner/"):
        return SIGN_IN
    return CONSOLE_SIGN_IN if path == "/console" or path.startswith("/console/") else ""


def _way_back(path: str) -> str:
    """Where a person on an error page can start again: the survey they were answering, the owner's home, or
    the console's."""
    parts = path.strip("/").split("/")
    if parts[0] == "survey" and len(parts) > 2:
        return f"/survey/{parts[1]}"
    if parts[0] in ("owner", "console") and path not in (SIGN_IN, CONSOLE_SIGN_IN):
        return f"/{parts[0]}"
    return ""


# Addresses no route answers (a mistyped page, a GET of a form's action): a browser gets a page there too.
# Litestar raises these before any router is chosen, so they are the app's handlers (api/app.py).
UNROUTED = {NotFoundException: on_page_error, MethodNotAllowedException: on_page_error}

# every kind the API's table names (a layer's handler for a nearer kind would win over a catch-all here)
PAGE_ERRORS = dict.fromkeys(EXCEPTION_HANDLERS, on_page_error)
