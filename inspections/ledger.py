"""The rectification ledger of a period summed by category and severity (the property report's table); the
meanings are the KPIs' (inspections/kpis.py OrderKpis)."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg
import msgspec

from core.access import Caller, require_property
from core.errors import NotFound
from core.periods import resolve_period
from core.places import repository as places_sql
from core.structs import Frozen
from inspections.repository import ledger as sql


class LedgerLine(Frozen, frozen=True):
    """Orders of one category and severity: opened and fixed (handed in) in the period; open (not handed in)
    at its end, or now when it has not ended; overdue: of the open ones, past their first deadline then."""

    category: str
    severity: str
    opened: int
    fixed: int
    open: int
    overdue: int


async def ledger_summary(
    conn: asyncpg.Connection, caller: Caller, property_id: str, from_: date, to: date, now: datetime
) -> list[LedgerLine]:
    """For the property's supervisors and admins."""
    await require_property(conn, caller, property_id, "supervise")
    prop = await places_sql.get_property(conn, caller.org_id, property_id)
    if prop is None:
        raise NotFound(f"property {property_id} not found", entity="property", id=property_id)
    period = resolve_period(from_, to, prop["timezone"], now)
    as_of = min(period.end_utc, now)
    rows = await sql.ledger_rows(conn, caller.org_id, property_id, period.start_utc, period.end_utc, as_of)
    return [msgspec.convert(dict(r), LedgerLine) for r in rows]
