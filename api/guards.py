"""Litestar guards: refuse early by property scope (routes with a {property_id}) and by role.

Order matters: the scope guard runs first, so another org's property answers 404 before any role check could
answer 403. Role guards sit only on routes whose path names no other object, or after the scope guard.

The services check the same rules (through core.access) because they are called from the CLI and the worker
too; the guards make the edge refuse before a handler runs and document the rule on the route.

OPTIONS passes every guard: the authentication middleware does not authenticate it (a CORS preflight carries
no credentials, by the Fetch standard), so there is no caller to judge; Litestar answers it with the route's
`Allow` header, which tells nothing the OpenAPI document does not.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from api.auth import UNAUTHENTICATED_METHODS
from bootstrap.services import Services
from core.access import Caller, require_property, require_role
from core.db import acquire


def _unauthenticated(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    return connection.scope.get("method") in UNAUTHENTICATED_METHODS


def requires(*roles: str) -> Guard:
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if _unauthenticated(connection):
            return
        caller: Caller = connection.user
        require_role(caller, *roles)

    return guard


async def in_property_scope(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The caller's scope must hold the property named in the path (else 404, as if it did not exist)."""
    property_id = connection.path_params.get("property_id")
    if property_id is None or _unauthenticated(connection):
        return
    services: Services = connection.app.state.services
    async with acquire(services.pool) as conn:
        await require_property(conn, connection.user, property_id)


ADMIN = requires("admin")
SUPERVISOR = requires("admin", "supervisor")
STAFF = requires("admin", "supervisor", "staff")
