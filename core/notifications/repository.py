"""All of the notifications' SQL: the outbox, its deliveries, webhooks and the inbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from core.db import insert_returning, update_row

WEBHOOK_COLUMNS = "id, url, active, kinds, created_at, updated_at"
INBOX_COLUMNS = (
    "id, notification_id, kind, title_zh, title_en, body_zh, body_en, property_id, record_table, record_id, "
    "created_at, read_at"
)

# --- the outbox -------------------------------------------------------------------------------------------


async def insert_notification(
    conn: asyncpg.Connection,
    *,
    org_id: str,
    id: str,
    dedupe_key: str,
    kind: str,
    property_id: str | None,
    record_table: str | None,
    record_id: str | None,
    title_zh: str,
    title_en: str,
    body_zh: str,
    body_en: str,
    data: dict[str, Any],
) -> bool:
    """False when the org has a notification with this dedupe key already (nothing is written)."""
    inserted = await conn.fetchval(
        """INSERT INTO notifications (org_id, id, dedupe_key, kind, property_id, record_table, record_id,
                                      title_zh, title_en, body_zh, body_en, data)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (org_id, dedupe_key) DO NOTHING RETURNING true""",
        org_id,
        id,
        dedupe_key,
        kind,
        property_id,
        record_table,
        record_id,
        title_zh,
        title_en,
        body_zh,
        body_en,
        data,
    )
    return bool(inserted)


async def webhook_ids_for(conn: asyncpg.Connection, org_id: str, kind: str) -> list[str]:
    """The org's active webhooks that take this kind."""
    rows = await conn.fetch(
        "SELECT id FROM webhooks WHERE org_id = $1 AND active AND (kinds IS NULL OR $2 = ANY(kinds)) ORDER BY id",
        org_id,
        kind,
    )
    return [r["id"] for r in rows]


async def insert_deliveries(
    conn: asyncpg.Connection, org_id: str, notification_id: str, channels: Sequence[str]
) -> None:
    # due at once, whatever the clock: not the database's now(), which a worker on an injected clock may not
    # have reached yet
    await conn.execute(
        """INSERT INTO notification_deliveries (org_id, notification_id, channel, next_attempt_at)
           SELECT $1, $2, channel, '-infinity' FROM unnest($3::text[]) AS channel ON CONFLICT DO NOTHING""",
        org_id,
        notification_id,
        list(channels),
    )


# --- delivery ---------------------------------------------------------------------------------------------


async def claim_due(conn: asyncpg.Connection, now: datetime) -> asyncpg.Record | None:
    """The earliest due pending delivery, with its notification, locked until this transaction ends. Rows
    other workers hold are skipped, so workers share the backlog; a dead worker's lock dies with its
    connection."""
    return await conn.fetchrow(
        """SELECT d.org_id, d.notification_id, d.channel, d.attempts,
                  n.kind, n.created_at, n.property_id, n.record_table, n.record_id,
                  n.title_zh, n.title_en, n.body_zh, n.body_en, n.data
           FROM notification_deliveries d
           JOIN notifications n ON n.org_id = d.org_id AND n.id = d.notification_id
           WHERE d.status = 'pending' AND d.next_attempt_at <= $1
           ORDER BY d.next_attempt_at
           LIMIT 1
           FOR UPDATE OF d SKIP LOCKED""",
        now,
    )


async def insert_inbox(conn: asyncpg.Connection, org_id: str, id: str, user_id: str, notification_id: str) -> None:
    """The user's inbox row for a notification; a second delivery of it writes nothing."""
    await conn.execute(
        """INSERT INTO inbox (org_id, id, user_id, notification_id, kind, title_zh, title_en, body_zh, body_en,
                              property_id, record_table, record_id, created_at)
           SELECT org_id, $2, $3, id, kind, title_zh, title_en, body_zh, body_en,
                  property_id, record_table, record_id, created_at
           FROM notifications WHERE org_id = $1 AND id = $4
           ON CONFLICT DO NOTHING""",
        org_id,
        id,
        user_id,
        notification_id,
    )


async def webhook_target(conn: asyncpg.Connection, org_id: str, id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT url, secret, active FROM webhooks WHERE org_id = $1 AND id = $2", org_id, id)


async def lease(conn: asyncpg.Connection, org_id: str, notification_id: str, channel: str, until: datetime) -> None:
    """Keep a claimed delivery from other workers until `until` (past the POST's timeout), without a lock."""
    await conn.execute(
        "UPDATE notification_deliveries SET next_attempt_at = $4 "
        "WHERE org_id = $1 AND notification_id = $2 AND channel = $3",
        org_id,
        notification_id,
        channel,
        until,
    )


async def mark_delivered(
    conn: asyncpg.Connection, org_id: str, notification_id: str, channel: str, now: datetime
) -> None:
    await conn.execute(
        """UPDATE notification_deliveries
           SET status = 'delivered', attempts = attempts + 1, delivered_at = $4, last_error = NULL
           WHERE org_id = $1 AND notification_id = $2 AND channel = $3 AND status = 'pending'""",
        org_id,
        notification_id,
        channel,
        now,
    )


async def mark_failed(
    conn: asyncpg.Connection,
    org_id: str,
    notification_id: str,
    channel: str,
    *,
    error: str,
    next_attempt_at: datetime | None,
) -> None:
    """One more failed attempt; with no next attempt the delivery is dead."""
    await conn.execute(
        """UPDATE notification_deliveries
           SET attempts = attempts + 1, last_error = $4,
               status = CASE WHEN $5::timestamptz IS NULL THEN 'dead' ELSE 'pending' END,
               next_attempt_at = coalesce($5, next_attempt_at)
           WHERE org_id = $1 AND notification_id = $2 AND channel = $3 AND status = 'pending'""",
        org_id,
        notification_id,
        channel,
        error,
        next_attempt_at,
    )


async def abandon_deliveries(conn: asyncpg.Connection, org_id: str, channel: str, reason: str) -> int:
    """Pending deliveries to a channel that is gone become dead."""
    status = await conn.execute(
        """UPDATE notification_deliveries SET status = 'dead', last_error = $3
           WHERE org_id = $1 AND channel = $2 AND status = 'pending'""",
        org_id,
        channel,
        reason,
    )
    return int(status.split()[-1])


# --- webhooks ---------------------------------------------------------------------------------------------


async def insert_webhook(
    conn: asyncpg.Connection,
    org_id: str,
    id: str,
    url: str,
    secret: str,
    kinds: list[str] | None,
    created_by: str,
) -> asyncpg.Record:
    return await insert_returning(
        conn,
        f"""INSERT INTO webhooks (org_id, id, url, secret, kinds, created_by) VALUES ($1, $2, $3, $4, $5, $6)
            RETURNING {WEBHOOK_COLUMNS}""",
        org_id,
        id,
        url,
        secret,
        kinds,
        created_by,
    )


async def list_webhooks(conn: asyncpg.Connection, org_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE org_id = $1 ORDER BY created_at, id", org_id)


async def get_webhook(conn: asyncpg.Connection, org_id: str, id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE org_id = $1 AND id = $2", org_id, id)


async def update_webhook(conn: asyncpg.Connection, org_id: str, id: str, changes: dict[str, object]) -> asyncpg.Record:
    return await update_row(conn, "webhooks", org_id=org_id, row_id=id, changes=changes, returning=WEBHOOK_COLUMNS)


async def delete_webhook(conn: asyncpg.Connection, org_id: str, id: str) -> None:
    await conn.execute("DELETE FROM webhooks WHERE org_id = $1 AND id = $2", org_id, id)


# --- the inbox --------------------------------------------------------------------------------------------


async def list_inbox(
    conn: asyncpg.Connection, org_id: str, user_id: str, *, unread: bool, after: str | None, limit: int
) -> list[asyncpg.Record]:
    """A user's inbox, newest first; `after`: the last id of the previous page."""
    return await conn.fetch(
        f"""SELECT {INBOX_COLUMNS} FROM inbox
            WHERE org_id = $1 AND user_id = $2 AND (NOT $3 OR read_at IS NULL)
              AND ($4::text IS NULL OR (created_at, id) < (
                  SELECT created_at, id FROM inbox WHERE org_id = $1 AND user_id = $2 AND id = $4))
            ORDER BY created_at DESC, id DESC LIMIT $5""",
        org_id,
        user_id,
        unread,
        after,
        limit,
    )


async def mark_read(
    conn: asyncpg.Connection, org_id: str, user_id: str, id: str, now: datetime
) -> asyncpg.Record | None:
    """Set read_at once (a second mark changes nothing, so phones are not sent the row again)."""
    row = await conn.fetchrow(
        f"""UPDATE inbox SET read_at = $4 WHERE org_id = $1 AND user_id = $2 AND id = $3 AND read_at IS NULL
            RETURNING {INBOX_COLUMNS}""",
        org_id,
        user_id,
        id,
        now,
    )
    if row is None:
        row = await conn.fetchrow(
            f"SELECT {INBOX_COLUMNS} FROM inbox WHERE org_id = $1 AND user_id = $2 AND id = $3", org_id, user_id, id
        )
    return row


async def backlog(conn: asyncpg.Connection, now: datetime) -> asyncpg.Record:
    row = await conn.fetchrow(
        """SELECT count(*) FILTER (WHERE d.status = 'pending') AS pending,
                  count(*) FILTER (WHERE d.status = 'dead') AS dead,
                  coalesce(extract(epoch FROM $1 - min(n.created_at) FILTER (WHERE d.status = 'pending')), 0)::int8
                      AS oldest_pending_s
           FROM notification_deliveries AS d
           JOIN notifications AS n ON n.org_id = d.org_id AND n.id = d.notification_id
           WHERE d.status <> 'delivered'""",
        now,
    )
    assert row is not None
    return row
