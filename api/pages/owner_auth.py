"""An owner signs in, activates an invitation code, and signs out, in the browser. Sign-in and activation are the
API's (core.people.auth: the same throttle and limits); on success the session's credential goes into an HttpOnly
cookie (api/pages/session.py). A refused try shows the form again with what went wrong and leaves nothing behind:
it runs in a savepoint, so an activation refused after its code was claimed keeps the code, and a staff account
signing in here gets no session."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from api.deps import AppServices, Conn
from api.errors import status_of
from api.pages.errors import SIGN_IN
from api.pages.forms import form_text
from api.pages.owner import HOME
from api.pages.render import page
from api.pages.session import Owner, ended_cookie
from api.pages.signing import (
    SignIn,
    local_next,
    refusal_text,
    say,
    session_for,
    sign_in_from_form,
    start_session,
)
from api.routes.auth import asked
from core.errors import Conflict, Forbidden, Invalid, Unauthorized
from core.people import auth
from core.people.schemas import Activate

OWNERS = SignIn(
    home=HOME,
    roles=("owner",),
    refusal="these pages are for owners / 此页面仅供业主使用",
    wrong_role="owner.refused.staff",
)


def _sign_in_form(
    request: Request[Any, Any, Any], *, login: str = "", to: str = HOME, error: str = "", status: int = 200
) -> Template:
    notice = request.query_params.get("signed_out") == "1" and not error
    return page(
        request, "owner/sign_in.html", {"login": login, "next": to, "error": error, "notice": notice}, status=status
    )


def _form_again(request: Request[Any, Any, Any], login: str, to: str, error: str, status: int) -> Template:
    return _sign_in_form(request, login=login, to=to, error=error, status=status)


def _activate_form(
    request: Request[Any, Any, Any], *, given: dict[str, str] | None = None, error: str = "", status: int = 200
) -> Template:
    values = {"code": "", "phone": "", "email": "", **(given or {})}
    return page(request, "owner/activate.html", {"values": values, "error": error}, status=status)


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
        return _sign_in_form(request, to=local_next(request.query_params.get("next"), HOME))

    @post("/sign-in", status_code=303)
    async def sign_in(self, request: Request[Any, Any, Any], conn: Conn, services: AppServices) -> Response[Any]:
        return await sign_in_from_form(request, conn, services, OWNERS, _form_again)

    @get("/activate")
    async def activate_form(self, request: Request[Any, Any, Any]) -> Template:
        return _activate_form(request, given={"code": str(request.query_params.get("code") or "")})

    @post("/activate", status_code=303)
    async def activate(self, request: Request[Any, Any, Any], conn: Conn, services: AppServices) -> Response[Any]:
        form = await request.form()
        given = form_text(form, ("code", "phone", "email"))
        password = str(form.get("password") or "")
        if password != str(form.get("password_again") or ""):
            error = say(request, "owner.refused.passwords_differ")
            return _activate_form(request, given=given, error=error, status=422)
        try:
            contact = {name: given[name] or None for name in ("phone", "email")}
            data = msgspec.convert({"code": given["code"], "password": password, **contact}, Activate)
        except msgspec.ValidationError as invalid:
            return _activate_form(request, given=given, error=say(request, _invalid_field(invalid)), status=422)
        attempt = auth.activate(conn, services.auth, services.limiter, data, asked(request, services))
        try:
            tokens = await session_for(conn, attempt, OWNERS.roles, OWNERS.refusal)
        except (Unauthorized, Forbidden, Invalid, Conflict) as refused:
            error, status = refusal_text(request, refused, OWNERS.wrong_role), status_of(refused)
            return _activate_form(request, given=given, error=error, status=status)
        return start_session(request, tokens, HOME, services)

    @post("/sign-out", status_code=303)
    async def sign_out(
        self, request: Request[Any, Any, Any], owner: Owner, conn: Conn, services: AppServices
    ) -> Redirect:
        await auth.logout(conn, owner, now=services.clock.now())
        return Redirect(f"{SIGN_IN}?signed_out=1", status_code=303, cookies=[ended_cookie(request)])
