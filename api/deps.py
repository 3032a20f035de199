"""Request dependencies. The request owns the transaction: everything a handler does commits or fails together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from api.state import Services
from core.access import Caller
from core.db import transaction

# Handler parameter types: named dependencies, injected by DEPENDENCIES below.
Conn = NamedDependency[asyncpg.Connection]
CurrentCaller = NamedDependency[Caller]
AppServices = NamedDependency[Services]


def provide_services(state: State) -> Services:
    services: Services = state.services
    return services


async def provide_conn(services: AppServices) -> AsyncIterator[asyncpg.Connection]:
    async with transaction(services.pool) as conn:
        yield conn


def provide_caller(request: Request[Any, Any, Any]) -> Caller:
    caller: Caller = request.user
    return caller


DEPENDENCIES = {
    "services": Provide(provide_services, sync_to_thread=False),
    "conn": Provide(provide_conn),
    "caller": Provide(provide_caller, sync_to_thread=False),
}
