"""SQL for the kept monthly KPI counts (table kpi_kept_months): read, judge still true, write.

A kept month is still true while nothing it counted has been written since its snapshot (taken before it was
counted: a row whose sync_xid is not visible in that snapshot may not have been counted). The tracked tables'
(org_id, sync_xid) indexes find those rows from the snapshot's xmin on; of them, the earliest moment they
count at (a round's window start, a result's check, an order's creation: an order counts in every month from the
one it was made in) says which months may have moved. A deleted row (a tombstone the snapshot did not see), or a
result changed since (its check time may have moved), moves them all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from inspections.repository.kpis import rounds_in_period

SNAPSHOT_SQL = "SELECT pg_current_snapshot()::text"

# What a month keeps: its totals (the trend's point) or its results' counted rows.
KEPT_SQL = """
SELECT start_at, end_at, snapshot, kept FROM kpi_kept_months
 WHERE org_id = $1 AND property_id = $2 AND what = $3
   AND (start_at, end_at) IN (SELECT * FROM unnest($4::timestamptz[], $5::timestamptz[]))"""

KEEP_SQL = """
INSERT INTO kpi_kept_months (org_id, property_id, what, start_at, end_at, snapshot, kept)
SELECT $1, $2, $3, k.start_at, k.end_at, $4, k.kept::jsonb
  FROM unnest($5::timestamptz[], $6::timestamptz[], $7::text[]) AS k (start_at, end_at, kept)
    ON CONFLICT (org_id, property_id, what, start_at, end_at)
    DO UPDATE SET snapshot = excluded.snapshot, kept = excluded.kept, counted_at = now()"""


def _unseen(column: str) -> str:
    """A row written by a transaction the snapshot $3 did not see (the index bounds it from the snapshot's xmin)."""
    snapshot = "$3::text::pg_snapshot"
    return f"{column} >= pg_snapshot_xmin({snapshot}) AND NOT pg_visible_in_snapshot({column}, {snapshot})"


# before any month a period may hold (core/periods.py: from 1900): every kept month has moved
EVERY = "'1900-01-01 00:00+00'::timestamptz"
# The earliest moment a row the snapshot $3 did not see counts at: NULL when there is none. Rounds and orders
# never change the moment they count at (a round's window and an order's creation are the server's, set once).
MOVED_FROM_SQL = f"""
SELECT least(
    (SELECT min(coalesce(r.window_start, r.created_at)) FROM rounds r
      WHERE r.org_id = $1 AND {_unseen("r.sync_xid")} AND r.property_id = $2),
    -- a phone may change a result's checked_at: a result made before the snapshot and changed since may have left
    -- any month, which its row no longer says, so it moves them all
    (SELECT CASE WHEN bool_or(pg_visible_in_snapshot(c.sync_created_xid, $3::text::pg_snapshot)) THEN {EVERY}
                 ELSE min(c.checked_at) END
       FROM check_results c
      WHERE c.org_id = $1 AND {_unseen("c.sync_xid")} AND c.property_id = $2),
    (SELECT min(o.created_at) FROM rectification_orders o
      WHERE o.org_id = $1 AND {_unseen("o.sync_xid")} AND o.property_id = $2),
    -- a deletion: every month
    (SELECT {EVERY} FROM sync_tombstones t
      WHERE t.org_id = $1 AND t.table_name IN ('rounds', 'check_results', 'rectification_orders')
        AND {_unseen("t.xid")} LIMIT 1))"""

# A month's figures stop depending on the clock once it has ended and every round in it is past its window's
# end (a round's `due` is `window_end < now`): the latest window end of each month's rounds.
LAST_WINDOW_SQL = f"""
SELECT p.start_at, (SELECT max(r.window_end) FROM rounds r WHERE {rounds_in_period("$2", "p.start_at", "p.end_at")})
  FROM unnest($3::timestamptz[], $4::timestamptz[]) AS p (start_at, end_at)"""


async def snapshot(conn: asyncpg.Connection) -> str:
    taken: str = await conn.fetchval(SNAPSHOT_SQL)
    return taken


async def kept(
    conn: asyncpg.Connection,
    what: str,
    org_id: str,
    property_id: str,
    starts: list[datetime],
    ends: list[datetime],
) -> list[asyncpg.Record]:
    """What is kept of `what` ('totals' or 'results') for these ranges: start_at, end_at, snapshot, kept."""
    return await conn.fetch(KEPT_SQL, org_id, property_id, what, starts, ends)


async def moved_from(conn: asyncpg.Connection, org_id: str, property_id: str, since: str) -> datetime | None:
    """The earliest moment counted by a row the snapshot `since` did not see (None: every row was seen)."""
    moment: datetime | None = await conn.fetchval(MOVED_FROM_SQL, org_id, property_id, since)
    return moment


async def last_windows(
    conn: asyncpg.Connection, org_id: str, property_id: str, starts: list[datetime], ends: list[datetime]
) -> dict[datetime, datetime | None]:
    rows = await conn.fetch(LAST_WINDOW_SQL, org_id, property_id, starts, ends)
    return {row[0]: row[1] for row in rows}


async def keep(
    conn: asyncpg.Connection,
    what: str,
    org_id: str,
    property_id: str,
    since: str,
    months: list[tuple[datetime, datetime, Any]],
) -> None:
    """Keep of `what` each (start, end, what was counted as JSON-able builtins), counted after the snapshot
    `since` was taken. A read-only transaction (the property report's snapshot) keeps nothing: it counted, and
    the next view keeps."""
    if not months or await conn.fetchval("SELECT current_setting('transaction_read_only')::bool"):
        return
    await conn.execute(
        KEEP_SQL,
        org_id,
        property_id,
        what,
        since,
        [m[0] for m in months],
        [m[1] for m in months],
        # as JSON text: asyncpg would take a list inside the array for another dimension
        [msgspec.json.encode(m[2]).decode() for m in months],
    )
