"""Offline sync: WatermelonDB's pull and push, and the declaration of what syncs."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, get, post
from litestar.params import FromQuery, HeaderParameter
from litestar.response import Stream

from api.deps import AppServices, CurrentCaller
from api.requests import JSONRequest
from core.db import acquire, transaction
from sync import pull as pulling
from sync import push as pushing
from sync import service
from sync.protocol import PullAnswer, PushAnswer, SchemaDoc

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=100,
        description="a retry with the same key returns the first answer and applies nothing",
    ),
]


@get(
    "/sync/pull",
    tags=["sync"],
    summary="Changes in your scope since your last pull (WatermelonDB pullChanges)",
    description="The answer is streamed in chunks; its shape is PullAnswer. Pass `timestamp` back as "
    "`last_pulled_at` next time (`null` for the first pull).",
)
async def pull(
    caller: CurrentCaller,
    services: AppServices,
    last_pulled_at: FromQuery[str | None] = None,
    schema_version: FromQuery[int | None] = None,
    migration: FromQuery[str | None] = None,
) -> Response[PullAnswer]:
    request = service.pull_request(services.registry.catalog, last_pulled_at, schema_version, migration)
    catalog = services.registry.catalog
    async with acquire(services.pool) as conn:
        quiet = await pulling.answer_if_quiet(conn, catalog, caller, request)
    if quiet is not None:
        return Response(quiet, media_type="application/json")  # type: ignore[arg-type]
    return Stream(pulling.stream(services.pool, catalog, caller, request), media_type="application/json")  # type: ignore[return-value]


@post("/sync/push", tags=["sync"], summary="Apply your offline changes (WatermelonDB pushChanges)", status_code=200)
async def push(
    request: JSONRequest,
    caller: CurrentCaller,
    services: AppServices,
    last_pulled_at: FromQuery[str],
    idempotency_key: IdempotencyKey = None,
) -> PushAnswer:
    body = await request.json_body()
    since = service.read_cursor(last_pulled_at, "last_pulled_at", optional=False)
    assert since is not None
    async with transaction(services.pool) as conn:
        grants = await service.grants_now(conn, caller)
        catalog = services.registry.catalog
        return await pushing.push(
            conn,
            caller,
            grants,
            body,
            since,
            idempotency_key,
            tables=catalog.by_name,
            rules=catalog.rules(services.clock, services.settings),
        )


@get("/sync/schema", tags=["sync"], summary="What syncs: tables, columns and wire types, as your role sees them")
async def sync_schema(caller: CurrentCaller, services: AppServices) -> SchemaDoc:
    return service.schema_for(services.registry.catalog, caller.role)
