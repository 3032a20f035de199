"""SQL for the work done on site: rounds, checkpoint visits, item results, rectification orders and the
photos attached to them. Every statement is scoped by org_id. Column names in `changes` come from our own
code, never from a request."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from core.db import insert_row
from core.db import set_columns as set_columns  # the orders' and rounds' use it through this module

ROUND_COLUMNS = (
    "id, property_id, template_version_id, route_id, assignee_id, status, window_start, window_end, started_at, "
    "completed_at, plan, occurrence_key, created_by, created_at"
)
ORDER_COLUMNS = (
    "id, property_id, source, check_id, round_id, checkpoint_id, location, category, description, severity, "
    "responsible_id, reported_by, status, due_at, original_due_at, started_at, submitted_at, submitted_by, "
    "verified_at, verified_by, reject_reason, rejections, resolution_note, created_at"
)
VISIT_COLUMNS = (
    "id, property_id, round_id, checkpoint_id, checked_by, scanned_tag, scanned_at, geo_lat, geo_lon, "
    "geo_accuracy_m, expected_at, timing"
)
RESULT_COLUMNS = (
    "id, property_id, round_id, visit_id, checkpoint_id, item_key, result, value_number, value_text, note, "
    "checked_by, checked_at, outcome, template_version_id"
)


async def _insert(
    conn: asyncpg.Connection, table: str, org_id: str, values: dict[str, Any], tail: str
) -> asyncpg.Record | None:
    """INSERT one row of `values` (names from our own code) for the org, followed by `tail` (ON CONFLICT …,
    RETURNING …)."""
    return await insert_row(conn, table, {"org_id": org_id, **values}, tail=tail)


async def _by_ids(
    conn: asyncpg.Connection, table: str, columns: str, org_id: str, ids: Sequence[str], *, lock: bool = False
) -> dict[str, asyncpg.Record]:
    """The org's rows of `table` with these ids, by id; `lock`: held until the transaction ends."""
    rows = await conn.fetch(
        f"SELECT {columns} FROM {table} WHERE org_id = $1 AND id = ANY($2::text[])" + (" FOR UPDATE" if lock else ""),
        org_id,
        list(ids),
    )
    return {row["id"]: row for row in rows}


# --- rounds -------------------------------------------------------------------------------------------


async def rounds_by_ids(
    conn: asyncpg.Connection, org_id: str, ids: Sequence[str], *, lock: bool = False
) -> dict[str, asyncpg.Record]:
    return await _by_ids(conn, "rounds", ROUND_COLUMNS, org_id, ids, lock=lock)


async def insert_round(conn: asyncpg.Connection, org_id: str, values: dict[str, Any]) -> asyncpg.Record:
    row = await _insert(conn, "rounds", org_id, values, f"RETURNING {ROUND_COLUMNS}")
    assert row is not None
    return row


async def list_rounds(
    conn: asyncpg.Connection,
    org_id: str,
    *,
    property_ids: Sequence[str] | None,
    assignee_id: str | None,
    status: str | None,
    after: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Newest window first; the cursor is the last round's id, paging by (window_start, id)."""
    return await conn.fetch(
        f"""SELECT {ROUND_COLUMNS} FROM rounds AS r
            WHERE org_id = $1 AND ($2::text[] IS NULL OR property_id = ANY($2))
              AND ($3::text IS NULL OR assignee_id = $3) AND ($4::text IS NULL OR status = $4)
              AND ($5::text IS NULL OR (coalesce(window_start, created_at), id) < (
                  SELECT coalesce(window_start, created_at), id FROM rounds WHERE org_id = $1 AND id = $5))
            ORDER BY coalesce(window_start, created_at) DESC, id DESC LIMIT $6""",
        org_id,
        None if property_ids is None else list(property_ids),
        assignee_id,
        status,
        after,
        limit,
    )


# --- visits and results -------------------------------------------------------------------------------


async def visits_by_ids(conn: asyncpg.Connection, org_id: str, ids: Sequence[str]) -> dict[str, asyncpg.Record]:
    return await _by_ids(conn, "checkpoint_visits", VISIT_COLUMNS, org_id, ids)


async def visits_of_rounds(conn: asyncpg.Connection, org_id: str, round_ids: Sequence[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {VISIT_COLUMNS} FROM checkpoint_visits WHERE org_id = $1 AND round_id = ANY($2::text[]) "
        "ORDER BY scanned_at NULLS LAST, id",
        org_id,
        list(round_ids),
    )


async def insert_missed_visits(
    conn: asyncpg.Connection, org_id: str, rows: Sequence[tuple[str, str, str, str, str, datetime | None]]
) -> None:
    """(id, property_id, round_id, checkpoint_id, checked_by, expected_at) of stops nobody reached."""
    await conn.executemany(
        """INSERT INTO checkpoint_visits (org_id, id, property_id, round_id, checkpoint_id, checked_by, expected_at,
               timing) VALUES ($1, $2, $3, $4, $5, $6, $7, 'missed') ON CONFLICT (org_id, id) DO NOTHING""",
        [(org_id, *row) for row in rows],
    )


async def count_visits(conn: asyncpg.Connection, org_id: str, round_ids: Sequence[str]) -> None:
    """Recount the rounds' visits by timing into their visits_* columns (what the KPIs read)."""
    await conn.execute(
        """UPDATE rounds AS r SET visits_early = c.early, visits_on_time = c.on_time, visits_late = c.late,
                  visits_missed = c.missed
             FROM (SELECT ids.id, count(*) FILTER (WHERE v.timing = 'early') AS early,
                          count(*) FILTER (WHERE v.timing = 'on_time') AS on_time,
                          count(*) FILTER (WHERE v.timing = 'late') AS late,
                          count(*) FILTER (WHERE v.timing = 'missed') AS missed
                     FROM unnest($2::text[]) AS ids (id)
                     LEFT JOIN checkpoint_visits AS v ON v.org_id = $1 AND v.round_id = ids.id
                    GROUP BY ids.id) AS c
            WHERE r.org_id = $1 AND r.id = c.id
              AND (r.visits_early, r.visits_on_time, r.visits_late, r.visits_missed)
                  IS DISTINCT FROM (c.early, c.on_time, c.late, c.missed)""",
        org_id,
        list(round_ids),
    )


async def results_by_ids(conn: asyncpg.Connection, org_id: str, ids: Sequence[str]) -> dict[str, asyncpg.Record]:
    return await _by_ids(conn, "check_results", RESULT_COLUMNS, org_id, ids)


async def results_of_rounds(conn: asyncpg.Connection, org_id: str, round_ids: Sequence[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {RESULT_COLUMNS} FROM check_results WHERE org_id = $1 AND round_id = ANY($2::text[]) "
        "ORDER BY checked_at, id",
        org_id,
        list(round_ids),
    )


async def photos_of(conn: asyncpg.Connection, org_id: str, records: Sequence[tuple[str, str]]) -> list[asyncpg.Record]:
    """Photos attached to any of the (record_table, record_id) pairs, oldest first."""
    if not records:
        return []
    return await conn.fetch(
        """SELECT p.id, p.record_table, p.record_id, p.purpose, p.status, p.taken_at, p.uploaded_by
           FROM photos AS p JOIN unnest($2::text[], $3::text[]) AS r(t, i) ON p.record_table = r.t AND p.record_id = r.i
           WHERE p.org_id = $1 ORDER BY p.taken_at NULLS LAST, p.id""",
        org_id,
        [table for table, _ in records],
        [record for _, record in records],
    )


# --- orders -------------------------------------------------------------------------------------------


async def orders_by_ids(
    conn: asyncpg.Connection, org_id: str, ids: Sequence[str], *, lock: bool = False
) -> dict[str, asyncpg.Record]:
    return await _by_ids(conn, "rectification_orders", ORDER_COLUMNS, org_id, ids, lock=lock)


async def insert_order(conn: asyncpg.Connection, org_id: str, values: dict[str, Any]) -> bool:
    """Open an order unless one with its id (or for its check) exists; True when inserted."""
    return (
        await _insert(conn, "rectification_orders", org_id, values, "ON CONFLICT DO NOTHING RETURNING id") is not None
    )


async def insert_review(
    conn: asyncpg.Connection,
    org_id: str,
    order: dict[str, Any],
    verdict: str,
    reviewed_at: datetime,
    reviewed_by: str,
) -> None:
    """One verdict on an order's latest submission (`order`: id, property_id, rejections before this verdict,
    submitted_at). A verdict is given once per submission: the same one again changes nothing."""
    await conn.execute(
        """INSERT INTO rectification_reviews (org_id, order_id, review, property_id, verdict, submitted_at,
                                              reviewed_at, reviewed_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING""",
        org_id,
        order["id"],
        order["rejections"] + 1,
        order["property_id"],
        verdict,
        order["submitted_at"],
        reviewed_at,
        reviewed_by,
    )


async def list_orders(
    conn: asyncpg.Connection,
    org_id: str,
    *,
    property_ids: Sequence[str] | None,
    person_id: str | None,
    status: str | None,
    overdue_at: datetime | None,
    after: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Orders by deadline, soonest first (the cursor is the last order's id). `person_id`: only orders the
    person must fix or reported; `overdue_at`: only unverified orders whose deadline passed at that time."""
    return await conn.fetch(
        f"""SELECT {ORDER_COLUMNS} FROM rectification_orders
            WHERE org_id = $1 AND ($2::text[] IS NULL OR property_id = ANY($2))
              AND ($3::text IS NULL OR responsible_id = $3 OR reported_by = $3)
              AND ($4::text IS NULL OR status = $4)
              AND ($5::timestamptz IS NULL OR (status <> 'verified' AND due_at < $5))
              AND ($6::text IS NULL OR (coalesce(due_at, 'infinity'), id) > (
                  SELECT coalesce(due_at, 'infinity'), id FROM rectification_orders WHERE org_id = $1 AND id = $6))
            ORDER BY coalesce(due_at, 'infinity'), id LIMIT $7""",
        org_id,
        None if property_ids is None else list(property_ids),
        person_id,
        status,
        overdue_at,
        after,
        limit,
    )


async def review_queue(
    conn: asyncpg.Connection, org_id: str, property_id: str, after: str | None, limit: int
) -> list[asyncpg.Record]:
    """Submitted orders of a property, the longest waiting first."""
    return await conn.fetch(
        f"""SELECT {ORDER_COLUMNS} FROM rectification_orders
            WHERE org_id = $1 AND property_id = $2 AND status = 'submitted'
              AND ($3::text IS NULL OR (submitted_at, id) > (
                  SELECT submitted_at, id FROM rectification_orders WHERE org_id = $1 AND id = $3))
            ORDER BY submitted_at, id LIMIT $4""",
        org_id,
        property_id,
        after,
        limit,
    )


# --- deadlines (the worker: every org) ------------------------------------------------------------------


async def unverified_orders_due_by(conn: asyncpg.Connection, horizon: datetime) -> list[asyncpg.Record]:
    """Orders of every org not yet verified whose deadline is at or before `horizon` (overdue ones included)."""
    return await conn.fetch(
        """SELECT org_id, id, property_id, responsible_id, status, due_at, description FROM rectification_orders
           WHERE status <> 'verified' AND due_at <= $1 ORDER BY due_at""",
        horizon,
    )


async def mark_rounds_missed(conn: asyncpg.Connection, now: datetime) -> list[asyncpg.Record]:
    return await conn.fetch(
        """UPDATE rounds SET status = 'missed' WHERE status = 'planned' AND window_end <= $1
           RETURNING org_id, id, property_id, assignee_id, window_end""",
        now,
    )


async def insert_scheduled_round(conn: asyncpg.Connection, org_id: str, values: dict[str, Any]) -> bool:
    """A round for a schedule occurrence, once: a second insert of its occurrence_key does nothing."""
    tail = "ON CONFLICT (org_id, occurrence_key) WHERE occurrence_key IS NOT NULL DO NOTHING RETURNING id"
    return await _insert(conn, "rounds", org_id, values, tail) is not None
