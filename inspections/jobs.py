"""The inspections' periodic job (inspections/plugin.py): every minute, rectification reminders, overdue flags
and escalations, and rounds whose window closed unstarted."""

from __future__ import annotations

import logging

from core.db import transaction
from core.jobs import JobContext
from core.settings import Settings
from inspections.deadlines import Policy, chase_order, miss_rounds, orders_to_chase

log = logging.getLogger("fieldwork.inspections.deadlines")


def policy_of(settings: Settings) -> Policy:
    return Policy(
        reminder_hours=settings.reminder_hours,
        escalation_hours=(settings.escalate_supervisors_hours, settings.escalate_admins_hours),
    )


async def chase_deadlines(job: JobContext) -> dict[str, int]:
    """Short transactions (one per order): a long one would hold back every device's sync cursor."""
    now, policy = job.clock.now(), policy_of(job.settings)
    async with transaction(job.pool) as conn:
        missed = await miss_rounds(conn, now)
        orders = await orders_to_chase(conn, now, policy)
    counts: dict[str, int] = {"rounds_missed": missed}
    for order in orders:
        async with transaction(job.pool) as conn:
            for step in await chase_order(conn, order, now, policy):
                counts[step] = counts.get(step, 0) + 1
    log.info("deadlines at %s: %d orders looked at, sent %s", now.isoformat(timespec="seconds"), len(orders), counts)
    return counts
