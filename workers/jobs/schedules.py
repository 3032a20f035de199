"""Every five minutes: materialise the schedules that are due (core/schedules/materialise.py), each in its own
short transaction, and say what each tick did."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from core.clock import Clock
from core.db import transaction
from core.schedules.materialise import Maker, announce, due, materialise
from core.settings import Settings
from inspections.schedules import make_rounds
from meetings.service import make_meeting
from surveys.schedules import campaign_maker

log = logging.getLogger("fieldwork.worker.schedules")


def makers(settings: Settings, clock: Clock) -> dict[str, Maker]:
    """What each kind's occurrences make."""
    assert settings.secret_key, "the worker's settings carry the secret (workers.settings.create_worker)"
    return {
        "inspection_round": make_rounds,
        "survey_campaign": campaign_maker(settings.secret_key, clock),
        "owner_meeting": make_meeting,
        "custom": announce,
    }


async def materialise_schedules(ctx: dict[str, Any]) -> dict[str, int]:
    settings: Settings = ctx["settings"]
    now = ctx["clock"].now()
    horizon = timedelta(days=settings.schedule_horizon_days)
    async with transaction(ctx["pool"]) as conn:
        todo = await due(conn, now, horizon)
    counts = {"schedules": len(todo), "created": 0, "missed": 0}
    kinds = makers(settings, ctx["clock"])
    for schedule in todo:
        async with transaction(ctx["pool"]) as conn:
            tally = await materialise(conn, schedule, now, horizon, kinds)
        counts["created"] += tally.created
        counts["missed"] += tally.missed
        if tally.missed:
            log.warning("schedule %s (%s) caught up %d missed occurrences", schedule.id, schedule.name, tally.missed)
    log.info("schedules at %s: %s", now.isoformat(timespec="seconds"), counts)
    return counts
