"""SQL of the evidence checks (inspections/evidence/): what is still to check, the facts a check reads, and the
flags it leaves. Every statement but the to-do scans (across orgs, for the worker) is scoped by org_id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from core.ids import new_id

# A photo with what its checks need: its record's round and order, its bytes' signature, its property's fence.
# The order of a check's photo is the order its failed item opened; a photo on an order is the order's.
_PHOTO = """SELECT p.org_id, p.id, p.property_id, p.record_table, p.record_id, p.purpose, p.uploaded_by, p.taken_at,
        p.captured_at, p.received_at, p.gps_lat, p.gps_lon, p.device_model, p.likeness, l.signature,
        coalesce(cr.round_id, cv.round_id, o.round_id) AS round_id,
        coalesce(o.id, oc.id) AS order_id,
        pr.geo_lat AS fence_lat, pr.geo_lon AS fence_lon, pr.geo_radius_m AS fence_radius_m
    FROM photos AS p
    JOIN properties AS pr ON pr.org_id = p.org_id AND pr.id = p.property_id
    LEFT JOIN photo_likeness AS l ON l.org_id = p.org_id AND l.sha256 = p.sha256
    LEFT JOIN check_results AS cr ON p.record_table = 'check_results' AND cr.org_id = p.org_id AND cr.id = p.record_id
    LEFT JOIN checkpoint_visits AS cv
        ON p.record_table = 'checkpoint_visits' AND cv.org_id = p.org_id AND cv.id = p.record_id
    LEFT JOIN rectification_orders AS o
        ON p.record_table = 'rectification_orders' AND o.org_id = p.org_id AND o.id = p.record_id
    LEFT JOIN rectification_orders AS oc
        ON p.record_table = 'check_results' AND oc.org_id = p.org_id AND oc.check_id = p.record_id"""


async def photos_to_check(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Photos waiting in evidence_todo (ready and hashed; not deferred past `now`, the job's clock), across orgs,
    in the order they became ready."""
    return await conn.fetch(
        f"""{_PHOTO}
            JOIN evidence_todo AS t ON t.org_id = p.org_id AND t.subject = 'photo' AND t.id = p.id
            WHERE t.not_before IS NULL OR t.not_before <= $1
            ORDER BY t.since, p.id LIMIT $2""",
        now,
        limit,
    )


async def photos_by_ids(conn: asyncpg.Connection, org_id: str, photo_ids: Sequence[str]) -> list[asyncpg.Record]:
    return await conn.fetch(f"{_PHOTO} WHERE p.org_id = $1 AND p.id = ANY($2::text[])", org_id, list(photo_ids))


async def likenesses(conn: asyncpg.Connection, org_id: str, photo_ids: Sequence[str]) -> dict[str, tuple[int, bytes]]:
    """The hash and signature of each of these photos that has both."""
    rows = await conn.fetch(
        """SELECT p.id, l.likeness, l.signature FROM photos AS p
           JOIN photo_likeness AS l ON l.org_id = p.org_id AND l.sha256 = p.sha256
           WHERE p.org_id = $1 AND p.id = ANY($2::text[]) AND l.signature IS NOT NULL""",
        org_id,
        list(photo_ids),
    )
    return {row["id"]: (row["likeness"], bytes(row["signature"])) for row in rows}


async def rounds_to_check(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Completed rounds waiting in evidence_todo, across orgs, with their property's fence."""
    return await conn.fetch(
        """SELECT r.org_id, r.id, r.property_id, r.assignee_id, r.started_at, r.completed_at, r.plan,
                  pr.geo_lat AS fence_lat, pr.geo_lon AS fence_lon, pr.geo_radius_m AS fence_radius_m
           FROM evidence_todo AS t
           JOIN rounds AS r ON r.org_id = t.org_id AND r.id = t.id
           JOIN properties AS pr ON pr.org_id = r.org_id AND pr.id = r.property_id
           WHERE t.subject = 'round' AND (t.not_before IS NULL OR t.not_before <= $1)
           ORDER BY t.since, r.id LIMIT $2""",
        now,
        limit,
    )


async def visits_with_places(conn: asyncpg.Connection, org_id: str, round_id: str) -> list[asyncpg.Record]:
    """A round's visits that were scanned, with the device's position and the checkpoint's."""
    return await conn.fetch(
        """SELECT v.id, v.checkpoint_id, v.checked_by, v.scanned_at, v.geo_lat AS lat, v.geo_lon AS lon,
                  v.geo_accuracy_m AS accuracy_m, c.geo_lat AS checkpoint_lat, c.geo_lon AS checkpoint_lon
           FROM checkpoint_visits AS v
           LEFT JOIN checkpoints AS c ON c.org_id = v.org_id AND c.id = v.checkpoint_id
           WHERE v.org_id = $1 AND v.round_id = $2 AND v.scanned_at IS NOT NULL
           ORDER BY v.scanned_at, v.id""",
        org_id,
        round_id,
    )


async def take(conn: asyncpg.Connection, org_id: str, subject: str, item_id: str) -> bool:
    """Take a photo or round off the to-do list, in the transaction that checks it: False when another run took it
    first (nothing to do then)."""
    taken = await conn.execute(
        "DELETE FROM evidence_todo WHERE org_id = $1 AND subject = $2 AND id = $3", org_id, subject, item_id
    )
    return taken != "DELETE 0"


async def forget_gone(conn: asyncpg.Connection) -> int:
    """To-do entries whose photo or round no longer exists (deleted with its record)."""
    status = await conn.execute(
        """DELETE FROM evidence_todo AS t WHERE NOT EXISTS (
               SELECT 1 FROM photos AS p WHERE t.subject = 'photo' AND p.org_id = t.org_id AND p.id = t.id
               UNION ALL
               SELECT 1 FROM rounds AS r WHERE t.subject = 'round' AND r.org_id = t.org_id AND r.id = t.id)"""
    )
    return int(status.split()[-1])


async def defer(conn: asyncpg.Connection, org_id: str, subject: str, item_id: str, until: datetime) -> None:
    await conn.execute(
        """INSERT INTO evidence_todo (org_id, subject, id, not_before) VALUES ($1, $2, $3, $4)
           ON CONFLICT (org_id, subject, id) DO UPDATE SET not_before = EXCLUDED.not_before""",
        org_id,
        subject,
        item_id,
        until,
    )


async def insert_flag(
    conn: asyncpg.Connection, org_id: str, property_id: str, finding: dict[str, Any], now: datetime
) -> asyncpg.Record | None:
    """The flag, unless its kind already flagged its subject (None then: a check run twice flags once)."""
    return await conn.fetchrow(
        f"""INSERT INTO evidence_flags (org_id, id, property_id, kind, level, subject, subject_id, round_id,
                   order_id, staff_id, score, evidence, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13)
            ON CONFLICT (org_id, kind, subject_id) DO NOTHING
            RETURNING {FLAG_COLUMNS}""",
        org_id,
        new_id(),
        property_id,
        finding["kind"],
        finding["level"],
        finding["subject"],
        finding["subject_id"],
        finding["round_id"],
        finding["order_id"],
        finding["staff_id"],
        finding["score"],
        finding["evidence"],
        now,
    )


FLAG_COLUMNS = (
    "id, property_id, kind, level, subject, subject_id, round_id, order_id, staff_id, score, evidence, status, "
    "dismissed_by, dismissed_at, dismiss_reason, created_at"
)


async def list_flags(
    conn: asyncpg.Connection,
    org_id: str,
    property_id: str,
    *,
    status: str | None,
    kind: str | None,
    staff_id: str | None,
    since: datetime | None,
    until: datetime | None,
    after: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    """A property's flags, newest first (keyset on created_at, id: `after` is the last id of the previous page)."""
    return await conn.fetch(
        f"""SELECT {FLAG_COLUMNS} FROM evidence_flags AS f
            WHERE org_id = $1 AND property_id = $2
              AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR kind = $4)
              AND ($5::text IS NULL OR staff_id = $5)
              AND ($6::timestamptz IS NULL OR created_at >= $6) AND ($7::timestamptz IS NULL OR created_at < $7)
              AND ($8::text IS NULL OR (created_at, id) < (
                  SELECT created_at, id FROM evidence_flags WHERE org_id = $1 AND id = $8))
            ORDER BY created_at DESC, id DESC LIMIT $9""",
        org_id,
        property_id,
        status,
        kind,
        staff_id,
        since,
        until,
        after,
        limit,
    )


async def flags_of(
    conn: asyncpg.Connection, org_id: str, *, round_ids: Sequence[str] = (), order_ids: Sequence[str] = ()
) -> list[asyncpg.Record]:
    """The flags shown with these rounds and orders, oldest first."""
    return await conn.fetch(
        f"""SELECT {FLAG_COLUMNS} FROM evidence_flags
            WHERE org_id = $1 AND (round_id = ANY($2::text[]) OR order_id = ANY($3::text[]))
            ORDER BY created_at, id""",
        org_id,
        list(round_ids),
        list(order_ids),
    )


async def get_flag(conn: asyncpg.Connection, org_id: str, flag_id: str, *, lock: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {FLAG_COLUMNS} FROM evidence_flags WHERE org_id = $1 AND id = $2{' FOR UPDATE' if lock else ''}",
        org_id,
        flag_id,
    )


async def dismiss(
    conn: asyncpg.Connection, org_id: str, flag_id: str, *, by: str, reason: str, now: datetime
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""UPDATE evidence_flags SET status = 'dismissed', dismissed_by = $3, dismissed_at = $4, dismiss_reason = $5
            WHERE org_id = $1 AND id = $2 RETURNING {FLAG_COLUMNS}""",
        org_id,
        flag_id,
        by,
        now,
        reason,
    )
    assert row is not None  # locked by the caller
    return row
