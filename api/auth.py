"""Bearer-token authentication: every route needs a live session unless it opts out."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware
from litestar.types import Method

from bootstrap.services import Services
from core.db import acquire
from core.errors import Unauthorized
from core.people.auth import authenticate

PUBLIC = {"exclude_from_auth": True}
# Methods let through unauthenticated on every route (a CORS preflight carries no credentials); the guards
# (api/guards.py) let them through too, having no caller to judge.
UNAUTHENTICATED_METHODS: tuple[Method, ...] = ("OPTIONS",)


class BearerAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("send 'Authorization: Bearer <access token>' (POST /auth/login gives one)")
        services: Services = connection.app.state.services
        async with acquire(services.pool) as conn:
            caller = await authenticate(conn, services.auth, token.strip(), now=services.clock.now())
        return AuthenticationResult(user=caller, auth=token)


authentication = DefineMiddleware(
    BearerAuthentication, exclude=["^/schema"], exclude_http_methods=UNAUTHENTICATED_METHODS
)
