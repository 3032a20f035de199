"""The arq worker: job functions, cron jobs, msgspec (not pickle) for payloads.

`fieldwork worker` runs it. The issues on schedules, deadlines, photos and notifications add their jobs to
FUNCTIONS and CRON_JOBS here; each job decodes its payload and calls a service.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import msgspec
from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker

from core.settings import Settings

log = logging.getLogger("fieldwork.worker")

HEARTBEAT_TTL = 120


def queue_name(settings: Settings) -> str:
    return f"{settings.namespace}:queue"


def heartbeat_key(settings: Settings) -> str:
    return f"{settings.namespace}:worker:heartbeat"


async def heartbeat(ctx: dict[str, Any]) -> None:
    """Tell /health the worker is alive."""
    settings: Settings = ctx["settings"]
    await ctx["redis"].set(heartbeat_key(settings), str(time.time()), ex=HEARTBEAT_TTL)


async def on_startup(ctx: dict[str, Any]) -> None:
    await heartbeat(ctx)
    log.info("worker started on queue %s", queue_name(ctx["settings"]))


FUNCTIONS: list[Any] = []
CRON_JOBS = [cron(heartbeat, second={0, 15, 30, 45}, run_at_startup=False, unique=False)]


def redis_settings(settings: Settings) -> RedisSettings:
    assert settings.redis_url
    return RedisSettings.from_dsn(settings.redis_url)


def create_worker(settings: Settings, *, burst: bool = False, handle_signals: bool = True) -> Worker:
    return Worker(
        functions=FUNCTIONS,
        cron_jobs=CRON_JOBS,
        redis_settings=redis_settings(settings),
        queue_name=queue_name(settings),
        on_startup=on_startup,
        ctx={"settings": settings},
        burst=burst,
        handle_signals=handle_signals,
        job_serializer=msgspec.msgpack.encode,
        job_deserializer=msgspec.msgpack.decode,
        health_check_key=f"{settings.namespace}:worker:health",
    )
