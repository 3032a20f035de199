"""A property's KPI totals month by month (the console's 12-month trends): the same figures property_kpis gives
over each calendar month, counted by the org totals' statement (inspections/repository/kpis.py TOTALS_SQL, one
row per month) — the same formulas, written once.

A year of one property is a large count (about as long as the year's KPIs themselves), so the months that have
settled are kept (table kpi_months) and read back while nothing they counted has been written since: see
inspections/repository/kpi_months.py for how that is judged. A month settles when it has ended and every round in
it is past its window (until then its figures move with the clock alone). The month in progress, and any month a
write has touched, is counted again. The evidence figures are counted every time, kept or not: dismissing a flag
is not a write the kept months watch."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import asyncpg
import msgspec

from core.access import Caller, supervised_zone
from core.periods import KpiPeriod, resolve_period
from core.structs import Frozen
from inspections import kept
from inspections.kpis import EvidenceKpis, KpiFigures, take
from inspections.repository import kpi_months as kept_sql
from inspections.repository import kpis as sql

TABLE = "totals"


class MonthKpis(Frozen, frozen=True):
    """One calendar month's totals (a trend's point); kept: read back from a settled month's count."""

    month: date
    period: KpiPeriod
    totals: KpiFigures
    kept: bool = False


def months_to(last: date, count: int) -> list[tuple[date, date]]:
    """The first and last day of `count` calendar months, oldest first, ending with the month of `last`."""
    months = []
    first = last.replace(day=1)
    for _ in range(count):
        following = (first + timedelta(days=32)).replace(day=1)
        months.append((first, following - timedelta(days=1)))
        first = (first - timedelta(days=1)).replace(day=1)
    return months[::-1]


async def monthly_kpis(
    conn: asyncpg.Connection,
    caller: Caller,
    property_id: str,
    last: date,
    now: datetime,
    *,
    months: int = 12,
    keep: bool = True,
) -> list[MonthKpis]:
    """A property's totals in each of `months` calendar months up to the month of `last`; settled months from
    what was kept (`keep` False: all counted now, nothing kept)."""
    zone = await supervised_zone(conn, caller, property_id)
    periods = [resolve_period(first, end, zone, now) for first, end in months_to(last, months)]
    since = await kept.snapshot(conn)
    ranges = [(p.start_utc, p.end_utc) for p in periods]
    found = await kept.still_true(conn, TABLE, caller.org_id, property_id, ranges) if keep else {}
    known = {start: msgspec.convert(figures, KpiFigures) for start, figures in found.items()}
    counting = [p for p in periods if p.start_utc not in known]
    if len(counting) < len(periods):  # a kept month's evidence is counted again: a flag dismissed since moves it
        kept_ones = [p for p in periods if p.start_utc in known]
        rows = await sql.evidence_totals(
            conn,
            caller.org_id,
            [property_id] * len(kept_ones),
            [p.start_utc for p in kept_ones],
            [p.end_utc for p in kept_ones],
        )
        for row in rows:
            evidence = msgspec.convert(row["evidence"], EvidenceKpis)
            known[row["start_at"]] = msgspec.structs.replace(known[row["start_at"]], evidence=evidence)
    if counting:
        rows = await sql.property_totals(
            conn,
            caller.org_id,
            [property_id] * len(counting),
            [p.start_utc for p in counting],
            [p.end_utc for p in counting],
            now,
        )
        counted = {p.start_utc: take(r, KpiFigures) for p, r in zip(counting, rows, strict=True)}
        if keep:
            await _keep_settled(conn, caller, property_id, counting, counted, since, now)
    else:
        counted = {}
    return [
        MonthKpis(
            month=p.from_,
            period=p,
            totals=known.get(p.start_utc) or counted[p.start_utc],
            kept=p.start_utc in known,
        )
        for p in periods
    ]


async def _keep_settled(
    conn: asyncpg.Connection,
    caller: Caller,
    property_id: str,
    counting: list[KpiPeriod],
    counted: dict[datetime, KpiFigures],
    since: str,
    now: datetime,
) -> None:
    ended = [p for p in counting if p.end_utc <= now]
    if not ended:
        return
    windows = await kept_sql.last_windows(
        conn, caller.org_id, property_id, [p.start_utc for p in ended], [p.end_utc for p in ended]
    )
    settled = [p for p in ended if (windows.get(p.start_utc) or p.start_utc) < now]
    if settled:
        months = [(p.start_utc, p.end_utc, msgspec.to_builtins(counted[p.start_utc])) for p in settled]
        await kept.keep(conn, TABLE, caller.org_id, property_id, since, months)
