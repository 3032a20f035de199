"""GET /health: is the database there, is Redis there, is a worker beating.

`ok` (200) only when all three hold; otherwise `degraded` (503), so that a load balancer or a monitor needs
no more than the status code. Cheap on purpose (it is the benchmarks' baseline): one `SELECT 1` and one Redis
command, each given PROBE_TIMEOUT seconds, run side by side.
"""

from __future__ import annotations

import asyncio

from litestar import Response, get

from api.auth import PUBLIC
from api.deps import AppServices
from core.heartbeat import STALE_AFTER, heartbeat_age, heartbeat_stale
from core.structs import Struct

PROBE_TIMEOUT = 1.0


class Check(Struct):
    ok: bool
    detail: str = ""


class Health(Struct):
    status: str
    database: Check
    redis: Check
    worker: Check
    worker_heartbeat_age_s: float | None = None


@get("/health", opt=PUBLIC, security=[], tags=["system"], summary="The API, its database and Redis, and the worker")
async def health(services: AppServices) -> Response[Health]:
    async def database() -> Check:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT), services.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
            return Check(ok=True)
        except Exception as exc:  # a health check reports failures, it does not raise them
            return Check(ok=False, detail=type(exc).__name__)

    async def redis() -> tuple[Check, float | None]:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                age = await heartbeat_age(services.redis, services.settings.namespace)
            return Check(ok=True), age
        except Exception as exc:
            return Check(ok=False, detail=type(exc).__name__), None

    db, (rd, age) = await asyncio.gather(database(), redis())
    worker = Check(ok=True)
    if not rd.ok:
        worker = Check(ok=False, detail="unknown: Redis is unreachable")
    elif heartbeat_stale(age, watching_for=(services.clock.now() - services.started).total_seconds()):
        worker = Check(ok=False, detail=f"no worker heartbeat in the last {STALE_AFTER} s")
    ok = db.ok and rd.ok and worker.ok
    body = Health(status="ok" if ok else "degraded", database=db, redis=rd, worker=worker, worker_heartbeat_age_s=age)
    return Response(body, status_code=200 if ok else 503)
