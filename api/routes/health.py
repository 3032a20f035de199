"""GET /health: is the database there, is Redis there, when did a worker last beat."""

from __future__ import annotations

import asyncio

from litestar import Response, get

from api.auth import PUBLIC
from api.deps import AppServices
from core.heartbeat import heartbeat_age
from core.structs import Struct


class Check(Struct):
    ok: bool
    detail: str = ""


class Health(Struct):
    status: str
    database: Check
    redis: Check
    worker_heartbeat_age_s: float | None = None


@get("/health", opt=PUBLIC, security=[], tags=["system"], summary="Liveness of the API, database and Redis")
async def health(services: AppServices) -> Response[Health]:
    async def database() -> Check:
        try:
            async with asyncio.timeout(2), services.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
            return Check(ok=True)
        except Exception as exc:  # a health check reports failures, it does not raise them
            return Check(ok=False, detail=type(exc).__name__)

    async def redis() -> tuple[Check, float | None]:
        try:
            async with asyncio.timeout(2):
                await services.redis.ping()
                age = await heartbeat_age(services.redis, services.settings.namespace)
            return Check(ok=True), age
        except Exception as exc:
            return Check(ok=False, detail=type(exc).__name__), None

    db, (rd, age) = await asyncio.gather(database(), redis())
    ok = db.ok and rd.ok
    body = Health(status="ok" if ok else "degraded", database=db, redis=rd, worker_heartbeat_age_s=age)
    return Response(body, status_code=200 if ok else 503)
