"""What the owners' and the console's sign-in pages share: the API's sign-in (core.people.auth: the same throttle
and limits), a session kept only for the roles a page is for (a refused role leaves no session behind: it runs in a
savepoint), the cookie, where to go next, and a refusal worded for a form."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.response import Redirect

from api.errors import status_of
from api.pages.lang import lang_of
from api.pages.session import session_cookie
from api.pages.texts import in_lang, translator
from api.routes.auth import asked
from bootstrap.services import Services
from core.errors import DomainError, Forbidden, Unauthorized
from core.people import auth
from core.people.models import Tokens
from core.people.schemas import Login

# refusals whose API wording is English only or too terse for a form, by the domain's message
WORDED = {
    "wrong login or password": "owner.refused.wrong_password",
    "this account is disabled; ask your property office": "owner.refused.disabled",
    "the invitation code is wrong, used or expired; ask your property office for a new one": "owner.refused.bad_code",
    "give a phone or an e-mail to log in with": "owner.refused.need_login",
    "that e-mail or phone is in use already": "owner.refused.login_taken",
}
WRONG_ROLE = "wrong_role"
# what a browser cannot GET: a form's action that sent a stranger here, or the sign-in itself
NOT_PAGES = ("/read", "/sign-out", "/sign-in", "/activate", "/verify", "/reject")


def local_next(given: object, home: str) -> str:
    """Where to go once signed in: a page under `home` asked for, never another site (an open redirect), nor a
    form's action, nor a path climbing out of `home`, nor anything a Location header could not carry as it is
    (printable ASCII only)."""
    if (
        isinstance(given, str)
        and (given == home or given.startswith(home + "/"))
        and all("!" <= c <= "~" and c != "\\" for c in given)
        and "/." not in given  # no "..": a browser would resolve it to a page outside `home`
        and "//" not in given
        and not given.rstrip("/").endswith(NOT_PAGES)
    ):
        return given
    return home


async def session_for(
    conn: asyncpg.Connection, attempt: Awaitable[Tokens], roles: Collection[str], refusal: str
) -> Tokens:
    """The tokens of a sign-in or activation, if it signed in one of `roles`; otherwise nothing of it is kept and
    Forbidden says `refusal`."""
    async with conn.transaction():  # a savepoint inside the request's transaction
        tokens = await attempt
        if tokens.user.role not in roles:
            raise Forbidden(refusal, code=WRONG_ROLE)
        return tokens


def refusal_text(request: Request[Any, Any, Any], refused: DomainError, wrong_role: str) -> str:
    """What went wrong, in the page's language; `wrong_role`: the words for an account of another role."""
    lang = lang_of(request)
    key = wrong_role if refused.code == WRONG_ROLE else WORDED.get(refused.detail)
    return translator(lang)(key) if key else in_lang(refused.detail, lang)


def say(request: Request[Any, Any, Any], key: str) -> str:
    return translator(lang_of(request))(key)


def start_session(request: Request[Any, Any, Any], tokens: Tokens, to: str, services: Services) -> Redirect:
    cookie = session_cookie(request, tokens.refresh_token, max_age=services.settings.refresh_token_ttl)
    return Redirect(to, status_code=303, cookies=[cookie])


class SignIn(msgspec.Struct, frozen=True, kw_only=True):
    """Who a sign-in page is for: the pages under `home`, the `roles` that may use them, and what an account of
    another role is told (`refusal` for the API's log, the text key `wrong_role` on the page)."""

    home: str
    roles: tuple[str, ...]
    refusal: str
    wrong_role: str


# a sign-in page's form again: (request, login, next, error, status)
FormAgain = Callable[[Request[Any, Any, Any], str, str, str, int], Response[Any]]


async def sign_in_from_form(
    request: Request[Any, Any, Any], conn: asyncpg.Connection, services: Services, who: SignIn, again: FormAgain
) -> Response[Any]:
    """A sign-in form sent: the session's cookie and the page asked for, or the form `again` with what went
    wrong (and no session)."""
    form = await request.form()
    login, password = str(form.get("login") or "").strip(), str(form.get("password") or "")
    to = local_next(form.get("next"), who.home)
    try:
        data = msgspec.convert({"login": login, "password": password}, Login)
    except msgspec.ValidationError:
        return again(request, login, to, say(request, "owner.refused.incomplete"), 422)
    attempt = auth.login(conn, services.auth, services.limiter, data, asked(request, services))
    try:
        tokens = await session_for(conn, attempt, who.roles, who.refusal)
    except (Unauthorized, Forbidden) as refused:
        return again(request, login, to, refusal_text(request, refused, who.wrong_role), status_of(refused))
    return start_session(request, tokens, to, services)
