"""SQL for schedules and their occurrences. Tenant statements are scoped by org_id; the worker's scan is not."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from core.db import update_row

# a schedule with its property's time zone
SELECT = """SELECT s.org_id, s.id, s.property_id, s.kind, s.name, s.rrule, s.dtstart_local, s.duration_minutes,
           s.payload, s.paused, s.created_by, s.created_at, s.updated_at, s.materialised_until, p.timezone
    FROM schedules AS s JOIN properties AS p ON p.org_id = s.org_id AND p.id = s.property_id"""


async def insert_schedule(
    conn: asyncpg.Connection,
    org_id: str,
    id: str,
    property_id: str,
    kind: str,
    name: str,
    rrule: str,
    dtstart_local: datetime,
    duration_minutes: int,
    payload: dict[str, Any],
    created_by: str,
    created_at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO schedules
               (org_id, id, property_id, kind, name, rrule, dtstart_local, duration_minutes, payload, created_by,
                created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)""",
        org_id,
        id,
        property_id,
        kind,
        name,
        rrule,
        dtstart_local,
        duration_minutes,
        payload,
        created_by,
        created_at,
    )


async def get_schedule(conn: asyncpg.Connection, org_id: str, id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"{SELECT} WHERE s.org_id = $1 AND s.id = $2", org_id, id)


async def list_schedules(
    conn: asyncpg.Connection, org_id: str, property_id: str, after: str | None, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""{SELECT} WHERE s.org_id = $1 AND s.property_id = $2 AND ($3::text IS NULL OR s.id > $3)
            ORDER BY s.id LIMIT $4""",
        org_id,
        property_id,
        after,
        limit,
    )


async def update_schedule(conn: asyncpg.Connection, org_id: str, id: str, changes: dict[str, object]) -> None:
    await update_row(conn, "schedules", org_id=org_id, row_id=id, changes=changes, returning="id")


async def advance_materialised(conn: asyncpg.Connection, org_id: str, id: str, until: datetime) -> None:
    """Move materialised_until forward to `until`, never back (two workers may finish out of order)."""
    await conn.execute(
        """UPDATE schedules SET materialised_until = greatest(materialised_until, $3)
           WHERE org_id = $1 AND id = $2""",
        org_id,
        id,
        until,
    )


async def due_schedules(conn: asyncpg.Connection, until: datetime) -> list[asyncpg.Record]:
    """Active schedules of every org not yet materialised up to `until`, the furthest behind first."""
    return await conn.fetch(
        f"""{SELECT} WHERE NOT s.paused AND (s.materialised_until IS NULL OR s.materialised_until < $1)
            ORDER BY s.materialised_until NULLS FIRST, s.org_id, s.id""",
        until,
    )


async def insert_occurrences(
    conn: asyncpg.Connection,
    org_id: str,
    schedule_id: str,
    starts: Sequence[datetime],
    ends: Sequence[datetime],
    statuses: Sequence[str],
) -> set[datetime]:
    """Record many occurrences of one schedule in one statement; returns the starts this call inserted."""
    rows = await conn.fetch(
        """INSERT INTO schedule_occurrences (org_id, schedule_id, starts_at, ends_at, status)
           SELECT $1, $2, s, e, st FROM unnest($3::timestamptz[], $4::timestamptz[], $5::text[]) AS v (s, e, st)
           ON CONFLICT DO NOTHING RETURNING starts_at""",
        org_id,
        schedule_id,
        list(starts),
        list(ends),
        list(statuses),
    )
    return {row["starts_at"] for row in rows}


async def backlog(conn: asyncpg.Connection, now: datetime) -> asyncpg.Record:
    """active: schedules not paused; behind: those whose materialised horizon is already in the past."""
    row = await conn.fetchrow(
        """SELECT count(*) FILTER (WHERE NOT paused) AS active,
                  count(*) FILTER (WHERE NOT paused AND (materialised_until IS NULL OR materialised_until < $1))
                      AS behind
           FROM schedules""",
        now,
    )
    assert row is not None
    return row
