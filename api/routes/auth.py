"""Sign in, refresh, sign out, change password, owner activation, and who am I."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from api.auth import PUBLIC
from api.deps import AppServices, Conn, CurrentCaller
from api.edge import client_address
from bootstrap.services import Services
from core.people import auth, service
from core.people.models import Me, Tokens
from core.people.schemas import Activate, Login, PasswordChange, Refresh


def asked(request: Request[Any, Any, Any], services: Services) -> auth.Context:
    """Who asks, from where and when: what sign-in's throttle and the session record need."""
    return auth.Context(
        client=client_address(request), now=services.clock.now(), user_agent=request.headers.get("user-agent", "")
    )


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/login", opt=PUBLIC, security=[], status_code=200, summary="Log in with an e-mail or phone and a password")
    async def login(
        self, request: Request[Any, Any, Any], data: JSONBody[Login], services: AppServices, conn: Conn
    ) -> Tokens:
        return await auth.login(conn, services.auth, services.limiter, data, asked(request, services))

    @post(
        "/refresh",
        opt=PUBLIC,
        security=[],
        status_code=200,
        summary="Trade a refresh token for new tokens (the old refresh token stops working)",
    )
    async def refresh(self, data: JSONBody[Refresh], services: AppServices, conn: Conn) -> Tokens:
        return await auth.refresh(conn, services.auth, data.refresh_token, now=services.clock.now())

    @post(
        "/activate",
        opt=PUBLIC,
        security=[],
        status_code=200,
        summary="Owners: activate the account with the invitation code from the property office",
    )
    async def activate(
        self, request: Request[Any, Any, Any], data: JSONBody[Activate], services: AppServices, conn: Conn
    ) -> Tokens:
        return await auth.activate(conn, services.auth, services.limiter, data, asked(request, services))

    @post("/logout", status_code=204, summary="End this session")
    async def logout(self, caller: CurrentCaller, services: AppServices, conn: Conn) -> None:
        await auth.logout(conn, caller, now=services.clock.now())

    @post(
        "/password", status_code=200, summary="Change the password; every session ends and this device gets new tokens"
    )
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[PasswordChange],
        caller: CurrentCaller,
        services: AppServices,
        conn: Conn,
    ) -> Tokens:
        return await auth.change_password(conn, services.auth, services.limiter, caller, data, asked(request, services))


@get("/me", tags=["auth"], summary="The signed-in person, their properties and units")
async def me(caller: CurrentCaller, conn: Conn) -> Me:
    return await service.me(conn, caller)
