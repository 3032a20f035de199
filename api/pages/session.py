"""A session in the browser: the cookie holds the session's credential (core/people/auth.py), HttpOnly,
SameSite=Lax, Secure when the page came over HTTPS; sign-out and a password change end it like any session.

Two kinds of people sign in with it: owners on their pages (`owner: Owner`) and supervisors and admins at the
console (`manager: Manager`). Staff work from the app and have neither."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide

from api.deps import AppServices, Conn
from core.access import Caller
from core.errors import Forbidden, Unauthorized
from core.people.auth import authenticate_session

COOKIE = "fw_session"
# a page handler's parameter `owner: Owner` is the signed-in owner (pages_router provides it)
Owner = NamedDependency[Caller]
# a console page's parameter `manager: Manager` is the signed-in supervisor or admin
Manager = NamedDependency[Caller]
MANAGERS = ("admin", "supervisor")


def session_cookie(request: Request[Any, Any, Any], credential: str, max_age: int) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=credential,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def ended_cookie(request: Request[Any, Any, Any]) -> Cookie:
    return Cookie(key=COOKIE, value="", max_age=0, expires=0, path="/", httponly=True, samesite="lax")


async def signed_in(request: Request[Any, Any, Any], conn: Conn, services: AppServices) -> Caller:
    """Whoever the cookie's session belongs to; Unauthorized sends the browser to a sign-in page."""
    credential = request.cookies.get(COOKIE)
    if not credential:
        raise Unauthorized("sign in first / 请先登录")
    return await authenticate_session(conn, credential, now=services.clock.now())


async def provide_owner(request: Request[Any, Any, Any], conn: Conn, services: AppServices) -> Caller:
    """The signed-in owner (a page's `owner` dependency)."""
    caller = await signed_in(request, conn, services)
    if caller.role != "owner":
        raise Forbidden(
            "these pages are for owners; staff use the app or the console / 此页面供业主使用，员工请使用应用或管理后台"
        )
    return caller


async def provide_manager(request: Request[Any, Any, Any], conn: Conn, services: AppServices) -> Caller:
    """The signed-in supervisor or admin (a console page's `manager` dependency)."""
    caller = await signed_in(request, conn, services)
    if caller.role not in MANAGERS:
        raise Forbidden(
            "the console is for supervisors and admins / 管理后台仅供主管和管理员使用",
            code="not_a_manager",
            required_role=list(MANAGERS),
        )
    return caller


SESSION_DEPENDENCIES = {"owner": Provide(provide_owner), "manager": Provide(provide_manager)}
