"""SQL for owner meetings, their attendance and attachments. Every statement is scoped by org_id."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg

from core.db import insert_row, update_row

ATTACHMENT_COLUMNS = "id, filename, content_type, size_bytes, sha256, uploaded_by, created_at"
MEETING_COLUMNS = f"""id, property_id, quarter, title_zh, title_en, starts_at, ends_at, location, agenda, status,
    noticed_at, minutes_draft_zh, minutes_draft_en, minutes_zh, minutes_en, minutes_published_at, attachments,
    cancelled_at, cancel_reason, created_by, created_at, updated_at,
    (SELECT coalesce(jsonb_agg(a ORDER BY a.created_at, a.id), '[]') FROM
       (SELECT {ATTACHMENT_COLUMNS} FROM meeting_attachments
         WHERE org_id = owner_meetings.org_id AND meeting_id = owner_meetings.id) AS a) AS draft_attachments"""


async def insert_meeting(conn: asyncpg.Connection, org_id: str, values: dict[str, Any]) -> bool:
    """False, writing nothing, when the property has a meeting that quarter (or the occurrence made one)."""
    row = await insert_row(
        conn, "owner_meetings", {"org_id": org_id, **values}, tail="ON CONFLICT DO NOTHING RETURNING id"
    )
    return row is not None


async def meeting(
    conn: asyncpg.Connection, org_id: str, meeting_id: str, *, lock: bool = False
) -> asyncpg.Record | None:
    """`lock`: hold the row for the change being made (two notices or publishes at once run one after the other)."""
    return await conn.fetchrow(
        f"SELECT {MEETING_COLUMNS} FROM owner_meetings WHERE org_id = $1 AND id = $2 {'FOR UPDATE' if lock else ''}",
        org_id,
        meeting_id,
    )


async def property_meetings(
    conn: asyncpg.Connection, org_id: str, property_id: str, after: str | None, limit: int
) -> list[asyncpg.Record]:
    """Newest first; `after` is the id of the last meeting of the previous page."""
    return await conn.fetch(
        f"""SELECT {MEETING_COLUMNS} FROM owner_meetings
            WHERE org_id = $1 AND property_id = $2
              AND ($3::text IS NULL OR (starts_at, id) <
                   (SELECT starts_at, id FROM owner_meetings WHERE org_id = $1 AND id = $3))
            ORDER BY starts_at DESC, id DESC LIMIT $4""",
        org_id,
        property_id,
        after,
        limit,
    )


async def update_meeting(
    conn: asyncpg.Connection, org_id: str, meeting_id: str, changes: dict[str, object]
) -> asyncpg.Record:
    return await update_row(
        conn, "owner_meetings", org_id=org_id, row_id=meeting_id, changes=changes, returning=MEETING_COLUMNS
    )


# --- attendance ---------------------------------------------------------------------------------------------


async def unit_ids(conn: asyncpg.Connection, org_id: str, property_id: str) -> set[str]:
    rows = await conn.fetch("SELECT id FROM units WHERE org_id = $1 AND property_id = $2", org_id, property_id)
    return {r["id"] for r in rows}


async def replace_attendance(
    conn: asyncpg.Connection,
    org_id: str,
    meeting_id: str,
    entries: list[tuple[str, bool, str | None]],
    recorded_by: str,
    at: datetime,
) -> None:
    """Make the meeting's attendance exactly `entries` (unit, present, proxy); a household whose entry did not
    change keeps who recorded it and when."""
    units = [unit for unit, _, _ in entries]
    await conn.execute(
        "DELETE FROM meeting_attendance WHERE org_id = $1 AND meeting_id = $2 AND NOT (unit_id = ANY($3::text[]))",
        org_id,
        meeting_id,
        units,
    )
    await conn.execute(
        """INSERT INTO meeting_attendance (org_id, meeting_id, unit_id, present, proxy_name, recorded_by, recorded_at)
           SELECT $1, $2, e.unit_id, e.present, e.proxy_name, $6, $7
           FROM unnest($3::text[], $4::bool[], $5::text[]) AS e(unit_id, present, proxy_name)
           ON CONFLICT (org_id, meeting_id, unit_id) DO UPDATE
             SET present = EXCLUDED.present, proxy_name = EXCLUDED.proxy_name,
                 recorded_by = EXCLUDED.recorded_by, recorded_at = EXCLUDED.recorded_at
             WHERE (meeting_attendance.present, meeting_attendance.proxy_name)
                   IS DISTINCT FROM (EXCLUDED.present, EXCLUDED.proxy_name)""",
        org_id,
        meeting_id,
        units,
        [present for _, present, _ in entries],
        [proxy for _, _, proxy in entries],
        recorded_by,
        at,
    )


async def attendance(conn: asyncpg.Connection, org_id: str, meeting_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT unit_id, present, proxy_name, recorded_by, recorded_at FROM meeting_attendance
           WHERE org_id = $1 AND meeting_id = $2 ORDER BY unit_id""",
        org_id,
        meeting_id,
    )


# --- attachments --------------------------------------------------------------------------------------------


async def insert_attachment(conn: asyncpg.Connection, org_id: str, values: dict[str, Any]) -> asyncpg.Record:
    row = await insert_row(
        conn, "meeting_attachments", {"org_id": org_id, **values}, tail=f"RETURNING {ATTACHMENT_COLUMNS}"
    )
    assert row is not None
    return row


async def attachment(
    conn: asyncpg.Connection, org_id: str, meeting_id: str, attachment_id: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""SELECT {ATTACHMENT_COLUMNS}, store_key FROM meeting_attachments
            WHERE org_id = $1 AND meeting_id = $2 AND id = $3""",
        org_id,
        meeting_id,
        attachment_id,
    )


async def stored_attachments(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """The store key and sha256 of every meeting attachment, across orgs (for backups)."""
    return await conn.fetch("SELECT store_key, sha256 FROM meeting_attachments ORDER BY store_key")


# --- reminders (the worker: every org) -----------------------------------------------------------------------


async def meetings_to_remind(
    conn: asyncpg.Connection, now: datetime, notice_due: timedelta, owners_reminded: timedelta
) -> list[asyncpg.Record]:
    """Meetings of every org still to be held: those not noticed yet that start within `notice_due` of `now`, and
    noticed ones that start within `owners_reminded` whose notice went out before that time began."""
    return await conn.fetch(
        f"""SELECT org_id, {MEETING_COLUMNS} FROM owner_meetings
            WHERE status IN ('planned', 'noticed')
              AND starts_at > $1 AND starts_at <= $1 + greatest($2::interval, $3::interval)
              AND ((status = 'planned' AND starts_at <= $1 + $2)
                   OR (status = 'noticed' AND starts_at <= $1 + $3 AND noticed_at < starts_at - $3))
            ORDER BY starts_at""",
        now,
        notice_due,
        owners_reminded,
    )


# --- what owners read (meetings/owner_view.py): only the columns meetings/synced.py sends them ---------------

OWNER_COLUMNS = """m.id, m.property_id, p.name AS property_name, p.timezone, m.title_zh, m.title_en, m.starts_at,
    m.ends_at, m.location, m.agenda, m.status, m.noticed_at, m.minutes_zh, m.minutes_en, m.minutes_published_at,
    m.attachments, m.cancelled_at, m.cancel_reason"""


async def owner_meetings(conn: asyncpg.Connection, org_id: str, property_ids: list[str]) -> list[asyncpg.Record]:
    """The meetings noticed to the properties' owners (`owner_property_id`, set by the notice), latest first."""
    return await conn.fetch(
        f"""SELECT {OWNER_COLUMNS}
            FROM owner_meetings m JOIN properties p ON p.org_id = m.org_id AND p.id = m.property_id
            WHERE m.org_id = $1 AND m.owner_property_id = ANY($2::text[])
            ORDER BY m.starts_at DESC, m.id""",
        org_id,
        property_ids,
    )
