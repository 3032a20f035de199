"""Every minute: the deadlines every plug-in declares (Registry.deadline_kinds, core/deadlines.py), reminded,
flagged overdue and escalated, each step once.

Short transactions: one to ask each kind what is due, then one per deadline. A long one would hold back every
device's sync cursor."""

from __future__ import annotations

import logging
from typing import Any

from core.db import transaction
from core.deadlines import chase, horizon_of, policy_of
from core.settings import Settings
from sync.plugins import Registry

log = logging.getLogger("fieldwork.worker.deadlines")


async def chase_deadlines(ctx: dict[str, Any]) -> dict[str, int]:
    """Counts: deadlines looked at, and each step sent (`remind-24h`, `overdue`…), over every kind."""
    settings: Settings = ctx["settings"]
    registry: Registry = ctx["registry"]
    now = ctx["clock"].now()
    counts: dict[str, int] = {"deadlines": 0}
    for kind in registry.deadline_kinds.values():
        policy = policy_of(settings, kind)
        async with transaction(ctx["pool"]) as conn:
            deadlines = await kind.due_by(conn, horizon_of(now, policy))
        counts["deadlines"] += len(deadlines)
        for deadline in deadlines:
            async with transaction(ctx["pool"]) as conn:
                for step in await chase(conn, kind, deadline, now, policy):
                    counts[step] = counts.get(step, 0) + 1
    log.info("deadlines at %s: %s", now.isoformat(timespec="seconds"), counts)
    return counts
