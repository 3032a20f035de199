"""Request dependencies. The request owns the transaction: everything a handler does commits or fails together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import asyncpg
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from bootstrap.services import Services
from core.access import Caller
from core.db import transaction
from core.structs import read_cursor

# Handler parameter types: named dependencies, injected by DEPENDENCIES below.
Conn = NamedDependency[asyncpg.Connection]
CurrentCaller = NamedDependency[Caller]
AppServices = NamedDependency[Services]
# a list's `cursor` query parameter, read (and a garbage one refused) here for every list
Cursor = NamedDependency[str | None]
# Litestar drops msgspec Meta from a parameter's annotation, so core.structs.Limit's bounds are not checked on
# a query; a QueryParameter's are (limit=100000 would otherwise fetch as many rows, limit=-5 fail in SQL)
PageLimit = Annotated[int, QueryParameter(ge=1, le=500, description="items per page, 1-500")]


def provide_services(state: State) -> Services:
    services: Services = state.services
    return services


async def provide_conn(services: AppServices) -> AsyncIterator[asyncpg.Connection]:
    async with transaction(services.pool) as conn:
        yield conn


def provide_caller(request: Request[Any, Any, Any]) -> Caller:
    caller: Caller = request.user
    return caller


def provide_cursor(
    given: Annotated[str | None, QueryParameter(name="cursor", description="next_cursor of the previous page")] = None,
) -> str | None:
    return read_cursor(given)


DEPENDENCIES = {
    "services": Provide(provide_services, sync_to_thread=False),
    "conn": Provide(provide_conn),
    "caller": Provide(provide_caller, sync_to_thread=False),
    "cursor": Provide(provide_cursor, sync_to_thread=False),
}
