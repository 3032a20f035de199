"""Supervisors and admins sign in to the console and sign out, in the browser, with the accounts and sessions the
API uses (api/pages/signing.py): the same throttle, the cookie of api/pages/session.py. A staff or owner account
is refused here and gets no session."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from api.deps import AppServices, Conn
from api.pages.console import HOME
from api.pages.errors import CONSOLE_SIGN_IN
from api.pages.render import page
from api.pages.session import MANAGERS, Manager, ended_cookie
from api.pages.signing import SignIn, local_next, sign_in_from_form
from core.people import auth

MANAGING = SignIn(
    home=HOME,
    roles=MANAGERS,
    refusal="the console is for supervisors and admins / 管理后台仅供主管和管理员使用",
    wrong_role="console.refused.role",
)


def _sign_in_form(
    request: Request[Any, Any, Any], *, login: str = "", to: str = HOME, error: str = "", status: int = 200
) -> Template:
    notice = request.query_params.get("signed_out") == "1" and not error
    context = {"login": login, "next": to, "error": error, "notice": notice}
    return page(request, "console/sign_in.html", context, status=status)


def _form_again(request: Request[Any, Any, Any], login: str, to: str, error: str, status: int) -> Template:
    return _sign_in_form(request, login=login, to=to, error=error, status=status)


class ConsoleSignInPages(Controller):
    path = HOME
    include_in_schema = False

    @get("/sign-in")
    async def sign_in_form(self, request: Request[Any, Any, Any]) -> Template:
        return _sign_in_form(request, to=local_next(request.query_params.get("next"), HOME))

    @post("/sign-in", status_code=303)
    async def sign_in(self, request: Request[Any, Any, Any], conn: Conn, services: AppServices) -> Response[Any]:
        return await sign_in_from_form(request, conn, services, MANAGING, _form_again)

    @post("/sign-out", status_code=303)
    async def sign_out(
        self, request: Request[Any, Any, Any], manager: Manager, conn: Conn, services: AppServices
    ) -> Redirect:
        await auth.logout(conn, manager, now=services.clock.now())
        return Redirect(f"{CONSOLE_SIGN_IN}?signed_out=1", status_code=303, cookies=[ended_cookie(request)])
