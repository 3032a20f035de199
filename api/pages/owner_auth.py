"""An owner signs in, activates an invitation code, and signs out, in the browser. Sign-in and activation are the
API's (core.people.auth: the same throttle and limits); on success the session's credential goes into an HttpOnly
cookie (api/pages/session.py). A refused try shows the form again with what went wrong and leaves nothing behind:
it runs in a savepoint, so an activation refused after its code was claimed keeps the code, and a staff account
signing in here gets no session."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from api.deps import AppServices, Conn
from api.edge import client_address
from api.pages.errors import SIGN_IN
from api.pages.lang import lang_of
from api.pages.owner import HOME
from api.pages.render import page
from api.pages.session import Owner, ended_cookie, session_cookie
from api.pages.texts import in_lang, translator
from bootstrap.services import Services
from core.errors import Conflict, DomainError, Forbidden, Invalid, Unauthorized
from core.people import auth
from core.people.models import Tokens
from core.people.schemas import Activate, Login

# refusals whose API wording is English only or too terse for a form, by the domain's message
WORDED = {
    "wrong login or password": "owner.refused.wrong_password",
    "this account is disabled; ask your property office": "owner.refused.disabled",
    "the invitation code is wrong, used or expired; ask your property office for a new one": "owner.refused.bad_code",
    "give a phone or an e-mail to log in with": "owner.refused.need_login",
    "that e-mail or phone is in use already": "owner.refused.login_taken",
}
REFUSED = {Unauthorized: 401, Forbidden: 403, Invalid: 422, Conflict: 409}
STAFF = "these pages are for owners / 此页面仅供业主使用"


# what a browser cannot GET: a form's action that sent a stranger here, or the sign-in itself
NOT_PAGES = ("/read", "/sign-out", "/sign-in", "/activate")


def local_next(given: object) -> str:
    """Where to go once signed in: an owner page asked for, never another site (an open redirect), nor a form's
    action, nor anything a Location header could not carry as it is (printable ASCII only)."""
    if (
        isinstance(given, str)
        and (given == HOME or given.startswith(HOME + "/"))
        and all("!" <= c <= "~" and c != "\\" for c in given)
        and not given.rstrip("/").endswith(NOT_PAGES)
    ):
        return given
    return HOME


def _asked(request: Request[Any, Any, Any], services: Services) -> auth.Context:
    agent = request.headers.get("user-agent", "")
    return auth.Context(client=client_address(request), now=services.clock.now(), user_agent=agent)


async def owner_session(conn: asyncpg.Connection, attempt: Awaitable[Tokens]) -> Tokens:
    """The tokens of a sign-in or activation, if it signed an owner in; otherwise nothing of it is kept."""
    async with conn.transaction():  # a savepoint inside the request's transaction
        tokens = await attempt
        if tokens.user.role != "owner":
            raise Forbidden(STAFF, code="not_an_owner")
        return tokens


def _refusal(request: Request[Any, Any, Any], refused: DomainError) -> str:
    """What went wrong, in the page's language."""
    lang = lang_of(request)
    key = "owner.refused.staff" if refused.code == "not_an_owner" else WORDED.get(refused.detail)
    return translator(lang)(key) if key else in_lang(refused.detail, lang)


def _say(request: Request[Any, Any, Any], key: str) -> str:
    return translator(lang_of(request))(key)


def signed_in(request: Request[Any, Any, Any], tokens: Tokens, to: str, services: Services) -> Redirect:
    cookie = session_cookie(request, tokens.refresh_token, max_age=services.settings.refresh_token_ttl)
    return Redirect(to, status_code=303, cookies=[cookie])


def _sign_in_form(
    request: Request[Any, Any, Any], *, login: str = "", to: str = HOME, error: str = "", status: int = 200
) -> Template:
    notice = request.query_params.get("signed_out") == "1" and not error
    return page(
        request, "owner/sign_in.html", {"login": login, "next": to, "error": error, "notice": notice}, status=status
    )


def _activate_form(
    request: Request[Any, Any, Any], *, given: dict[str, str] | None = None, error: str = "", status: int = 200
) -> Template:
    values = {"code": "", "phone": "", "email": "", **(given or {})}
    return page(request, "owner/activate.html", {"values": values, "error": error}, status=status)


def _form_fields(form: Any, *names: str) -> dict[str, str]:
    return {name: str(form.get(name) or "").strip() for name in names}


def _invalid_field(error: msgspec.ValidationError) -> str:
    """Which of our words says what a form's field got wrong (msgspec names the field as `$.name`)."""
    where = str(error).rpartition("$.")[2].strip("`")
    return {"email": "owner.refused.bad_email", "phone": "owner.refused.bad_phone"}.get(
        where, "owner.refused.password_short"
    )


class OwnerSignInPages(Controller):
    path = HOME
    include_in_schema = False

    @get("/sign-in")
    async def sign_in_form(self, request: Request[Any, Any, Any]) -> Template:
        return _sign_in_form(request, to=local_next(request.query_params.get("next")))

    @post("/sign-in", status_code=303)
    async def sign_in(self, request: Request[Any, Any, Any], conn: Conn, services: AppServices) -> Response[Any]:
        form = await request.form()
        login, password = str(form.get("login") or "").strip(), str(form.get("password") or "")
        to = local_next(form.get("next"))
        try:
            data = msgspec.convert({"login": login, "password": password}, Login)
        except msgspec.ValidationError:
            error = _say(request, "owner.refused.incomplete")
            return _sign_in_form(request, login=login, to=to, error=error, status=422)
        attempt = auth.login(conn, services.auth, services.limiter, data, _asked(request, services))
        try:
            tokens = await owner_session(conn, attempt)
        except (Unauthorized, Forbidden) as refused:
            error, status = _refusal(request, refused), REFUSED[type(refused)]
            return _sign_in_form(request, login=login, to=to, error=error, status=status)
        return signed_in(request, tokens, to, services)

    @get("/activate")
    async def activate_form(self, request: Request[Any, Any, Any]) -> Template:
        return _activate_form(request, given={"code": str(request.query_params.get("code") or "")})

    @post("/activate", status_code=303)
    async def activate(self, request: Request[Any, Any, Any], conn: Conn, services: AppServices) -> Response[Any]:
        form = await request.form()
        given = _form_fields(form, "code", "phone", "email")
        password = str(form.get("password") or "")
        if password != str(form.get("password_again") or ""):
            error = _say(request, "owner.refused.passwords_differ")
            return _activate_form(request, given=given, error=error, status=422)
        try:
            contact = {name: given[name] or None for name in ("phone", "email")}
            data = msgspec.convert({"code": given["code"], "password": password, **contact}, Activate)
        except msgspec.ValidationError as invalid:
            return _activate_form(request, given=given, error=_say(request, _invalid_field(invalid)), status=422)
        attempt = auth.activate(conn, services.auth, services.limiter, data, _asked(request, services))
        try:
            tokens = await owner_session(conn, attempt)
        except (Unauthorized, Forbidden, Invalid, Conflict) as refused:
            error, status = _refusal(request, refused), REFUSED[type(refused)]
            return _activate_form(request, given=given, error=error, status=status)
        return signed_in(request, tokens, HOME, services)

    @post("/sign-out", status_code=303)
    async def sign_out(
        self, request: Request[Any, Any, Any], owner: Owner, conn: Conn, services: AppServices
    ) -> Redirect:
        await auth.logout(conn, owner, now=services.clock.now())
        return Redirect(f"{SIGN_IN}?signed_out=1", status_code=303, cookies=[ended_cookie(request)])
