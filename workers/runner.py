"""`fieldwork worker`: an arq worker that rides out PostgreSQL and Redis restarts.

Three layers keep work going while a server restarts. A Redis command is retried with backoff for about
fifteen seconds (workers/settings.py, REDIS_RETRIES); a job that meets either server down is retried later,
not failed (retried_through_outages); and when arq's own loop stops on a connection error (a longer
outage), this runner starts a fresh worker after a backoff, logging each time, instead of letting the
process exit. Jobs are never lost on the way: a job still in the queue when its worker stopped is run by the
next one (arq marks a job in progress for its timeout plus ten seconds, so one cut short waits that long).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from arq.worker import Worker

from core.outages import outage_in, which_dependency
from core.settings import Settings
from workers.settings import create_worker, on_shutdown

log = logging.getLogger("fieldwork.worker")

FIRST_DELAY = 1.0
MAX_DELAY = 30.0
# a worker that ran this long before it stopped starts its next life with the first delay again
STEADY = 60.0
# seconds the jobs of a stopped worker get to finish
GRACE = 10.0


class Backoff:
    """1, 2, 4 … MAX_DELAY seconds between restarts; back to FIRST_DELAY after a steady run."""

    def __init__(self) -> None:
        self.delay = FIRST_DELAY

    def next(self, ran_for: float) -> float:
        if ran_for >= STEADY:
            self.delay = FIRST_DELAY
        delay, self.delay = self.delay, min(MAX_DELAY, self.delay * 2)
        return delay


async def run_worker(settings: Settings, *, burst: bool = False, stop: asyncio.Event | None = None) -> None:
    """Run workers one after another until SIGINT/SIGTERM or `stop` is set (or, with burst, until the queue
    is empty)."""
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    current: list[Worker] = []

    async def stop_current() -> None:
        await stop.wait()
        for worker in current:
            worker.handle_sig(signal.SIGTERM)  # cancels its jobs (arq puts them back) and its loop

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    stopper = asyncio.create_task(stop_current())
    backoff = Backoff()
    try:
        while not stop.is_set():
            worker = create_worker(settings, burst=burst, handle_signals=False)
            current[:] = [worker]
            started = loop.time()
            try:
                await worker.async_run()
            except asyncio.CancelledError:
                if not stop.is_set():
                    raise
            except Exception as exc:
                if (outage := outage_in(exc)) is None:
                    raise  # a bug: the process exits, and `fieldwork up` (or systemd) starts it again
                delay = backoff.next(loop.time() - started)
                log.warning(
                    "the worker stopped: %s is unavailable (%s: %s); starting it again in %.0f s",
                    which_dependency(outage),
                    type(outage).__name__,
                    outage,
                    delay,
                )
                await _release(worker)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                continue
            await _release(worker)
            return
    finally:
        stopper.cancel()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def _release(worker: Worker) -> None:
    """Let go of a worker whose loop stopped (on a signal, at the end of a burst, or on an outage): its jobs
    get GRACE seconds to finish (a signal has cancelled them: arq puts them back in the queue; after an
    outage they retry their own calls), then its database pool and Redis connections are closed, whatever
    state they are in. (arq's Worker.close() would need Redis up to delete its health key, which expires
    by itself.)"""
    if worker.tasks:
        await asyncio.wait(list(worker.tasks.values()), timeout=GRACE)
        for task in worker.tasks.values():
            task.cancel()
    ctx: dict[str, Any] = worker.ctx
    with contextlib.suppress(Exception):
        await on_shutdown(ctx)
    redis = ctx.get("redis")  # arq sets it once connected
    if redis is not None:
        with contextlib.suppress(Exception):
            await redis.aclose(close_connection_pool=True)
