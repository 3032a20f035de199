"""Every five minutes: materialise the schedules that are due (core/schedules/materialise.py), each in its own
short transaction, and say what each tick did. What an occurrence makes is its kind's (the registry's)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from core.db import transaction
from core.schedules.materialise import due, materialise
from core.settings import Settings
from sync.plugins import Registry

log = logging.getLogger("fieldwork.worker.schedules")


async def materialise_schedules(ctx: dict[str, Any]) -> dict[str, int]:
    settings: Settings = ctx["settings"]
    registry: Registry = ctx["registry"]
    assert settings.secret_key, "the worker's settings carry the secret (workers.settings.create_worker)"
    now = ctx["clock"].now()
    horizon = timedelta(days=settings.schedule_horizon_days)
    async with transaction(ctx["pool"]) as conn:
        todo = await due(conn, now, horizon)
    counts = {"schedules": len(todo), "created": 0, "missed": 0}
    for schedule in todo:
        async with transaction(ctx["pool"]) as conn:
            tally = await materialise(conn, schedule, now, horizon, registry.schedule_kinds, settings.secret_key)
        counts["created"] += tally.created
        counts["missed"] += tally.missed
        if tally.missed:
            log.warning("schedule %s (%s) caught up %d missed occurrences", schedule.id, schedule.name, tally.missed)
    log.info("schedules at %s: %s", now.isoformat(timespec="seconds"), counts)
    return counts
