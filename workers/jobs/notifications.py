"""Every 10 seconds: deliver the notification outbox (inboxes and webhooks), retrying failures with back-off."""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from core.egress import Egress
from core.notifications.delivery import Policy, deliver_due
from core.notifications.webhooks import Sender
from core.settings import Settings

log = logging.getLogger("fieldwork.worker.notifications")

# per run: the next run (10 s later) goes on with the rest
BATCH = 500
BUDGET_SECONDS = 60.0

# Workers (by the id of their database pool) with a delivery run going. arq gives each job a copy of the
# worker's ctx, so the mark is kept here, not in ctx.
_running: set[int] = set()


async def deliver_notifications(ctx: dict[str, Any]) -> dict[str, int]:
    """One delivery in flight per worker process: a run that finds another still going leaves the backlog to
    it, so a worker killed mid-run has at most one delivery that may arrive twice."""
    worker = id(ctx["pool"])
    if worker in _running:
        log.debug("a delivery run is still going in this worker")
        return {}
    settings: Settings = ctx["settings"]
    policy = Policy(
        max_attempts=settings.webhook_max_attempts,
        backoff_seconds=settings.webhook_backoff_seconds,
        lease_seconds=settings.webhook_timeout_seconds + 5,
    )
    _running.add(worker)
    try:
        async with Sender(Egress.of(settings, ctx["resolve"]), settings.webhook_timeout_seconds) as sender:
            counts = await deliver_due(
                ctx["pool"],
                clock=ctx["clock"],
                policy=policy,
                sender=sender,
                limit=BATCH,
                budget_seconds=BUDGET_SECONDS,
            )
    finally:
        _running.discard(worker)
    result = msgspec.structs.asdict(counts)
    log.log(
        logging.INFO if any(result.values()) else logging.DEBUG,
        "notifications: delivered %d, failed %d (will retry), dead %d",
        counts.delivered,
        counts.failed,
        counts.dead,
    )
    return result
