"""Delivering the outbox: one delivery at a time, taken FOR UPDATE SKIP LOCKED in a short transaction.

An inbox delivery is written and marked in that transaction. A webhook delivery is leased there instead
(its next attempt moved past the POST's timeout), posted with no transaction open, and marked in another
short one: a transaction open during a slow POST would hold back every device's sync cursor. Several
workers share the backlog without sending anything twice; a worker killed mid-POST loses nothing (the lease
runs out and another worker sends it). Only the one delivery it had in flight can arrive twice; inbox rows
have stable ids and webhook receivers dedupe on X-Fieldwork-Delivery, so it is acted on once.

Failed attempts are retried with exponential back-off and jitter; after `max_attempts` the delivery is dead,
its last error kept. A webhook whose host is (now) an internal address (core/egress.py) is not retried: the
delivery is dead at once, its reason kept and logged.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

import asyncpg
import msgspec

from core.clock import Clock
from core.db import transaction
from core.egress import Refused
from core.notifications import repository as sql
from core.notifications import webhooks
from core.notifications.models import WebhookPayload
from core.notifications.service import inbox_id

log = logging.getLogger("fieldwork.notifications")

Outcome = Literal["delivered", "failed", "dead"]
MAX_DELAY = timedelta(hours=6)


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    max_attempts: int = 8
    backoff_seconds: int = 30
    # how long a webhook delivery is kept from other workers while it is posted: longer than the POST's timeout
    lease_seconds: int = 15


class Counts(msgspec.Struct, kw_only=True):
    delivered: int = 0
    failed: int = 0
    dead: int = 0


class Failure(msgspec.Struct, frozen=True):
    error: str
    final: bool = False  # no point trying again (the webhook is gone, the user does not exist)


def retry_delay(attempts: int, base_seconds: int, rand: Callable[[], float] = random.random) -> timedelta:
    """The wait after the `attempts`-th failure: base × 2^(attempts-1), at most MAX_DELAY, times a jitter in
    [0.5, 1) so that deliveries which failed together (a receiver down) do not all come back at once."""
    seconds = min(base_seconds * 2 ** min(attempts - 1, 32), MAX_DELAY.total_seconds())
    return timedelta(seconds=seconds * (0.5 + rand() / 2))


async def deliver_due(
    pool: asyncpg.Pool,
    *,
    clock: Clock,
    policy: Policy,
    sender: webhooks.Sender,
    limit: int = 500,
    budget_seconds: float = 60.0,
) -> Counts:
    """Deliver due deliveries one at a time until none is due, `limit` were tried or the time budget is spent
    (the next run goes on)."""
    counts = Counts()
    stop = time.monotonic() + budget_seconds
    for _ in range(limit):
        outcome = await deliver_one(pool, clock, policy, sender)
        if outcome is None:
            break
        setattr(counts, outcome, getattr(counts, outcome) + 1)
        if time.monotonic() > stop:
            break
    return counts


async def deliver_one(pool: asyncpg.Pool, clock: Clock, policy: Policy, sender: webhooks.Sender) -> Outcome | None:
    """Take the earliest due delivery, try it and record the outcome; None when nothing is due."""
    now = clock.now()
    async with transaction(pool) as conn:
        row = await sql.claim_due(conn, now)
        if row is None:
            return None
        kind, _, target = row["channel"].partition(":")
        if kind == "inbox":
            return await _record(
                conn, row, await _to_inbox(conn, row["org_id"], row["notification_id"], target), now, policy
            )
        webhook = await sql.webhook_target(conn, row["org_id"], target)
        if webhook is None or not webhook["active"]:
            gone = Failure("the webhook was deleted" if webhook is None else "the webhook is paused", final=True)
            return await _record(conn, row, gone, now, policy)
        await sql.lease(
            conn, row["org_id"], row["notification_id"], row["channel"], now + timedelta(seconds=policy.lease_seconds)
        )
    failure = await _to_webhook(row, webhook, now, sender)
    async with transaction(pool) as conn:
        return await _record(conn, row, failure, clock.now(), policy)


async def _record(
    conn: asyncpg.Connection, row: asyncpg.Record, failure: Failure | None, now: datetime, policy: Policy
) -> Outcome:
    org_id, notification_id, channel = row["org_id"], row["notification_id"], row["channel"]
    if failure is None:
        await sql.mark_delivered(conn, org_id, notification_id, channel, now)
        return "delivered"
    attempts = row["attempts"] + 1
    dead = failure.final or attempts >= policy.max_attempts
    next_at = None if dead else now + retry_delay(attempts, policy.backoff_seconds)
    await sql.mark_failed(conn, org_id, notification_id, channel, error=failure.error, next_attempt_at=next_at)
    log.log(
        logging.WARNING if dead else logging.INFO,
        "notification %s to %s: attempt %d failed (%s); %s",
        notification_id,
        channel,
        attempts,
        failure.error,
        "giving up" if dead else f"next try at {next_at:%Y-%m-%d %H:%M:%S}",
    )
    return "dead" if dead else "failed"


async def _to_inbox(conn: asyncpg.Connection, org_id: str, notification_id: str, user_id: str) -> Failure | None:
    try:
        async with conn.transaction():  # a savepoint: a failure here leaves the attempt's record writable
            await sql.insert_inbox(conn, org_id, inbox_id(notification_id, user_id), user_id, notification_id)
    except asyncpg.ForeignKeyViolationError:
        return Failure(f"no user {user_id} in this org", final=True)
    except asyncpg.PostgresError as exc:
        return Failure(f"{type(exc).__name__}: {exc}")
    return None


async def _to_webhook(
    row: asyncpg.Record, webhook: asyncpg.Record, now: datetime, sender: webhooks.Sender
) -> Failure | None:
    payload = WebhookPayload(
        id=row["notification_id"],
        kind=row["kind"],
        created_at=row["created_at"],
        property_id=row["property_id"],
        record_table=row["record_table"],
        record_id=row["record_id"],
        title_zh=row["title_zh"],
        title_en=row["title_en"],
        body_zh=row["body_zh"],
        body_en=row["body_en"],
        data=row["data"],
    )
    try:
        error = await sender.post(webhook["url"], webhook["secret"], payload, now)
    except Refused as exc:
        return Failure(f"refused: {exc}", final=True)
    return None if error is None else Failure(error)
