"""The inspections' periodic job (inspections/plugin.py): every minute, rounds whose window closed unstarted.
Their rectification orders' deadlines are chased by the kernel's `chase_deadlines` (inspections/deadlines.py
declares them)."""

from __future__ import annotations

from core.db import transaction
from core.jobs import JobContext
from inspections.deadlines import miss_rounds


async def mark_missed_rounds(job: JobContext) -> dict[str, int]:
    async with transaction(job.pool) as conn:
        return {"rounds_missed": await miss_rounds(conn, job.clock.now())}
