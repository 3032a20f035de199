"""Counts of settled months kept for the KPIs (table kpi_kept_months): read back while no write
the counting snapshot missed touches them (inspections/repository/kpi_months.py says how that is judged), and
kept anew after a count. Shared by the trend (inspections/kpi_months.py) and the result figures
(inspections/kpis.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from inspections.repository import kpi_months as sql

snapshot = sql.snapshot  # take one before counting: what the count may not see is not visible in it
keep = sql.keep  # after a count: what was counted, with the snapshot taken before it


async def still_true(
    conn: asyncpg.Connection, what: str, org_id: str, property_id: str, ranges: list[tuple[datetime, datetime]]
) -> dict[datetime, Any]:
    """What is kept of `what` for these UTC ranges that nothing written since has moved, by the range's start."""
    rows = await sql.kept(conn, what, org_id, property_id, [r[0] for r in ranges], [r[1] for r in ranges])
    if not rows:
        return {}
    moved = {
        taken: await sql.moved_from(conn, org_id, property_id, taken)
        for taken in {r["snapshot"] for r in rows}  # one, unless two views kept months at once
    }
    return {r["start_at"]: r["kept"] for r in rows if (since := moved[r["snapshot"]]) is None or r["end_at"] <= since}
