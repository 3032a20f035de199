"""The arq worker: job functions, cron jobs, msgspec (not pickle) for payloads.

`fieldwork worker` runs it. The kernel's jobs (housekeeping, schedules, deadlines, photos, notifications) are listed
here; each domain's periodic jobs (reminders, sweeps) come from its plug-in (Registry.jobs), and so do the
deadlines the kernel's chase_deadlines works through (Registry.deadline_kinds). Each job decodes its payload and
calls a service.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

from arq import ArqRedis, Retry, create_pool, cron
from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.typing import WorkerCoroutine
from arq.worker import Worker
from redis.asyncio.retry import Retry as RedisRetry
from redis.backoff import ExponentialBackoff

from bootstrap.domains import registry as default_registry
from bootstrap.services import open_services
from core.heartbeat import HEARTBEAT, beat
from core.jobs import JobContext, Periodic, decode_job, encode_job, queue_name
from core.outages import REDIS_DOWN, outage_in, which_dependency
from core.settings import Settings, with_secret
from sync.plugins import Registry
from workers.jobs.deadlines import chase_deadlines
from workers.jobs.housekeeping import prune_sync, purge_sessions
from workers.jobs.notifications import deliver_notifications
from workers.jobs.photos import expire_uploads, hash_photos, make_derivatives, queue_derivatives
from workers.jobs.reports import make_report
from workers.jobs.schedules import materialise_schedules

log = logging.getLogger("fieldwork.worker")


async def on_startup(ctx: dict[str, Any]) -> None:
    """The services (bootstrap.services), on the clock and webhook resolver a test may have put in ctx."""
    settings: Settings = ctx["settings"]
    stack = ctx["stack"] = AsyncExitStack()
    services = await stack.enter_async_context(
        open_services(
            settings,
            clock=ctx.get("clock"),
            resolve=ctx.get("resolve"),
            registry=ctx["registry"],
            pool_size=min(settings.db_pool_size, 5),
        )
    )
    ctx["services"] = services
    ctx.update(pool=services.pool, clock=services.clock, resolve=services.resolve, store=services.store)
    ctx.update(uploads=services.uploads, queue=queue_name(settings))
    log.info("worker started on queue %s", queue_name(settings))


async def on_shutdown(ctx: dict[str, Any]) -> None:
    if stack := ctx.get("stack"):
        await stack.aclose()


Job = Callable[..., Awaitable[Any]]

# Tries of one job. A job that meets PostgreSQL or Redis down is tried again after 2, 4, 8 … 60 s
# (outage_delay): ten tries ride out about five minutes of outage before arq gives the job up.
MAX_TRIES = 10


def outage_delay(job_try: int) -> int:
    return int(min(60, 2**job_try))


def retried_through_outages(job: Job) -> WorkerCoroutine:
    """The job, except that PostgreSQL or Redis being unreachable makes it a Retry, not a failure: a job
    that met a restart runs again once the server is back (arq counts it as one more try)."""

    @functools.wraps(job)  # arq names a job by its function's __qualname__
    async def run(ctx: dict[Any, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await job(ctx, *args, **kwargs)
        except Retry:
            raise  # the job chose its own delay
        except Exception as exc:
            if (outage := outage_in(exc)) is None:
                raise
            tries = int(ctx.get("job_try", 1))
            delay = outage_delay(tries)
            log.warning(
                "%s: %s is unavailable (%s: %s); trying again in %d s (try %d of %d)",
                job.__name__,
                which_dependency(outage),
                type(outage).__name__,
                outage,
                delay,
                tries,
                MAX_TRIES,
            )
            raise Retry(defer=delay) from exc

    return run


# The kernel's jobs as written, with the plug-ins' periodic jobs (all_jobs); create_worker hands arq each wrapped
# by retried_through_outages. The kernel's on a schedule:
CRON_JOBS = [
    cron(purge_sessions, minute={17}, second={0}, run_at_startup=False),
    cron(prune_sync, hour={3}, minute={41}, second={0}, run_at_startup=False),
    # a worker back from downtime catches up at its first tick
    cron(materialise_schedules, minute=set(range(0, 60, 5)), second={5}, run_at_startup=False),
    cron(chase_deadlines, second={30}, run_at_startup=False),
    cron(deliver_notifications, second={0, 10, 20, 30, 40, 50}, run_at_startup=True),
    cron(queue_derivatives, second=set(range(2, 60, 5)), run_at_startup=True),
    cron(expire_uploads, minute=set(range(7, 60, 10)), second={15}, run_at_startup=False),
    cron(hash_photos, second={45}, run_at_startup=False),
]
# and those queued by another job
QUEUED: list[Job] = [make_derivatives, make_report]


def periodic_job(periodic: Periodic) -> WorkerCoroutine:
    """A plug-in's periodic job as an arq job named as it declares (arq names a job by __qualname__)."""

    async def run(ctx: dict[Any, Any], *args: Any, **kwargs: Any) -> Any:
        return await periodic.run(JobContext(pool=ctx["pool"], clock=ctx["clock"], settings=ctx["settings"]))

    run.__name__ = run.__qualname__ = periodic.name
    return run


def plugin_crons(registry: Registry) -> list[CronJob]:
    """The plug-ins' periodic jobs, on their schedules."""
    crons = []
    for periodic in registry.jobs.values():
        job = periodic_job(periodic)
        crons.append(
            cron(
                job,
                hour=set(periodic.hour) if periodic.hour is not None else None,
                minute=set(periodic.minute) if periodic.minute is not None else None,
                second=set(periodic.second),
                run_at_startup=periodic.run_at_startup,
            )
        )
    return crons


def all_jobs(registry: Registry) -> tuple[list[Job], list[CronJob]]:
    """Every job (the kernel's and the plug-ins'), and every cron; a plug-in job named as a kernel job fails here,
    at start-up."""
    kernel = {job.coroutine.__qualname__ for job in CRON_JOBS} | {job.__qualname__ for job in QUEUED}
    if clash := kernel & set(registry.jobs):
        raise ValueError(f"plug-in jobs named as the kernel's: {', '.join(sorted(clash))}")
    crons = [*CRON_JOBS, *plugin_crons(registry)]
    return [*(c.coroutine for c in crons), *QUEUED], crons


# A Redis command that fails to connect is sent again after 0.2, 0.4 … 2 s: ten retries ride out a restart
# of up to about fifteen seconds without the worker noticing; a longer outage stops the worker's loop, and
# workers/runner.py starts it again.
REDIS_RETRIES = 10


def cron_jobs(settings: Settings, crons: list[CronJob]) -> list[CronJob]:
    """The crons named within the namespace and retried through outages. arq makes a tick's job id from its cron
    job's name and instant, and job ids are global on a Redis: under the bare names, installations sharing a
    Redis (namespaces) took each other's ticks, each tick running in one of them only. Copies, too: arq keeps
    its place in them."""
    return [
        dataclasses.replace(
            job,
            name=f"cron:{settings.namespace}:{job.coroutine.__qualname__}",
            coroutine=retried_through_outages(job.coroutine),
        )
        for job in crons
    ]


def redis_settings(settings: Settings) -> RedisSettings:
    assert settings.redis_url
    return dataclasses.replace(
        RedisSettings.from_dsn(settings.redis_url),
        conn_retries=0,  # the retries below cover the first connection too
        retry=RedisRetry(ExponentialBackoff(cap=2.0, base=0.1), REDIS_RETRIES),
        # OSError too: a refused connection is retried only if it is listed (redis-py wraps it afterwards)
        retry_on_error=[*REDIS_DOWN, OSError],
    )


class BeatingWorker(Worker):
    """arq's Worker, also beating core.heartbeat's key from its poll loop (arq's own health key expires one
    second after it is due, too soon to tell a late beat from a dead worker)."""

    _beaten_at = float("-inf")

    async def heart_beat(self) -> None:
        await super().heart_beat()
        if time.monotonic() - self._beaten_at >= HEARTBEAT:
            await beat(self.pool, self.ctx["settings"].namespace)
            self._beaten_at = time.monotonic()


def create_worker(
    settings: Settings, *, burst: bool = False, handle_signals: bool = True, registry: Registry | None = None
) -> Worker:
    """`registry`: the plug-ins (the system's unless a test gives its own)."""
    plugins = registry or default_registry()
    functions, crons = all_jobs(plugins)
    return BeatingWorker(
        functions=[retried_through_outages(job) for job in functions],
        # a burst run does the queued jobs only: a cron tick falling due meanwhile would add one more
        cron_jobs=[] if burst else cron_jobs(settings, crons),
        redis_settings=redis_settings(settings),
        queue_name=queue_name(settings),
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        ctx={"settings": with_secret(settings), "registry": plugins},  # survey links are derived from the secret
        burst=burst,
        handle_signals=handle_signals,
        job_serializer=encode_job,
        job_deserializer=decode_job,
        health_check_interval=HEARTBEAT,
        max_tries=MAX_TRIES,
    )


async def connect_queue(settings: Settings) -> ArqRedis:
    """A client for enqueueing jobs with the worker's serializer and queue; close it with aclose()."""
    return await create_pool(
        redis_settings(settings),
        default_queue_name=queue_name(settings),
        job_serializer=encode_job,
        job_deserializer=decode_job,
    )
