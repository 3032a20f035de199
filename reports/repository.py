"""The reports table's SQL (core/migrations/0017_reports.sql)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

COLUMNS = """id, property_id, period, version, status, progress, total, error, store_key, size_bytes, requested_by,
             requested_at, started_at, finished_at"""


async def latest(conn: asyncpg.Connection, org_id: str, property_id: str, period: str) -> asyncpg.Record | None:
    """The newest version of the property's report of `period`."""
    return await conn.fetchrow(
        f"""SELECT {COLUMNS} FROM reports WHERE org_id = $1 AND property_id = $2 AND period = $3
             ORDER BY version DESC LIMIT 1""",
        org_id,
        property_id,
        period,
    )


async def recent(
    conn: asyncpg.Connection, org_id: str, property_id: str, periods: list[str], now: datetime
) -> list[asyncpg.Record]:
    """The newest version of each of `periods` that was asked for, and of any other period asked for in the 400
    days before `now`."""
    return await conn.fetch(
        f"""SELECT DISTINCT ON (period) {COLUMNS} FROM reports
             WHERE org_id = $1 AND property_id = $2
               AND (period = ANY($3::text[]) OR requested_at > $4::timestamptz - interval '400 days')
             ORDER BY period DESC, version DESC""",
        org_id,
        property_id,
        periods,
        now,
    )


async def insert(
    conn: asyncpg.Connection,
    org_id: str,
    report_id: str,
    property_id: str,
    period: str,
    total: int,
    requested_by: str,
    now: datetime,
) -> asyncpg.Record:
    """The next version of (property, period), queued. Two requests at once: the loser meets the unique key."""
    row = await conn.fetchrow(
        f"""INSERT INTO reports (org_id, id, property_id, period, version, total, requested_by, requested_at)
            SELECT $1, $2, $3, $4, coalesce(max(version), 0) + 1, $5, $6, $7 FROM reports
             WHERE org_id = $1 AND property_id = $3 AND period = $4
            RETURNING {COLUMNS}""",
        org_id,
        report_id,
        property_id,
        period,
        total,
        requested_by,
        now,
    )
    assert row is not None
    return row


async def by_id(conn: asyncpg.Connection, org_id: str, report_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {COLUMNS} FROM reports WHERE org_id = $1 AND id = $2", org_id, report_id)


async def start(conn: asyncpg.Connection, org_id: str, report_id: str, now: datetime) -> asyncpg.Record | None:
    """Mark a queued (or, after a worker's crash, running) report running; None if it is done or failed."""
    return await conn.fetchrow(
        f"""UPDATE reports SET status = 'running', progress = 0, started_at = $3, error = NULL
             WHERE org_id = $1 AND id = $2 AND status IN ('queued', 'running')
            RETURNING {COLUMNS}""",
        org_id,
        report_id,
        now,
    )


async def advance(conn: asyncpg.Connection, org_id: str, report_id: str, progress: int) -> None:
    await conn.execute(
        "UPDATE reports SET progress = greatest(progress, $3) WHERE org_id = $1 AND id = $2 AND status = 'running'",
        org_id,
        report_id,
        progress,
    )


async def finish(
    conn: asyncpg.Connection, org_id: str, report_id: str, key: str, size: int, figures: str, now: datetime
) -> None:
    await conn.execute(
        """UPDATE reports SET status = 'done', progress = total, store_key = $3, size_bytes = $4,
                              figures = $5::text::jsonb, finished_at = $6
            WHERE org_id = $1 AND id = $2""",
        org_id,
        report_id,
        key,
        size,
        figures,
        now,
    )


async def fail(conn: asyncpg.Connection, org_id: str, report_id: str, error: str, now: datetime) -> None:
    await conn.execute(
        """UPDATE reports SET status = 'failed', error = $3, finished_at = $4
            WHERE org_id = $1 AND id = $2 AND status <> 'done'""",
        org_id,
        report_id,
        error,
        now,
    )


async def figures_json(conn: asyncpg.Connection, org_id: str, report_id: str) -> str | None:
    value: str | None = await conn.fetchval(
        "SELECT figures::text FROM reports WHERE org_id = $1 AND id = $2", org_id, report_id
    )
    return value


async def requester_role(conn: asyncpg.Connection, org_id: str, user_id: str) -> str | None:
    """The role of the person who asked for a report, if their account is still active."""
    role: str | None = await conn.fetchval(
        "SELECT role FROM users WHERE org_id = $1 AND id = $2 AND active", org_id, user_id
    )
    return role
