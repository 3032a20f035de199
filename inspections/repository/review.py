"""SQL for what a reviewer reads beside an order: the names of the people, checkpoints and routes it mentions, its
round, and its neighbours in the property's review queue (the queue's own order: submitted_at, id)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg


async def user_names(conn: asyncpg.Connection, org_id: str, ids: Sequence[str]) -> dict[str, str]:
    rows = await conn.fetch("SELECT id, name FROM users WHERE org_id = $1 AND id = ANY($2::text[])", org_id, list(ids))
    return {row["id"]: row["name"] for row in rows}


async def checkpoint_names(conn: asyncpg.Connection, org_id: str, ids: Sequence[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT id, name FROM checkpoints WHERE org_id = $1 AND id = ANY($2::text[])", org_id, list(ids)
    )
    return {row["id"]: row["name"] for row in rows}


async def round_summary(conn: asyncpg.Connection, org_id: str, round_id: str) -> asyncpg.Record | None:
    """A round with its route's and checklist's names (id, status, assignee_id, window_start, window_end,
    route_name, checklist_zh, checklist_en)."""
    return await conn.fetchrow(
        """SELECT r.id, r.status, r.assignee_id, r.window_start, r.window_end, ro.name AS route_name,
                  v.name_zh AS checklist_zh, v.name_en AS checklist_en
           FROM rounds AS r
           LEFT JOIN routes AS ro ON ro.org_id = r.org_id AND ro.id = r.route_id
           LEFT JOIN template_versions AS v ON v.org_id = r.org_id AND v.id = r.template_version_id
           WHERE r.org_id = $1 AND r.id = $2""",
        org_id,
        round_id,
    )


async def queue_neighbours(
    conn: asyncpg.Connection, org_id: str, property_id: str, order_id: str, submitted_at: datetime | None
) -> asyncpg.Record:
    """The submitted orders just before and just after (`previous`, `next`) an order in its property's review
    queue; for an order not in the queue (no `submitted_at` given), no previous and the queue's first as next."""
    row = await conn.fetchrow(
        """SELECT
             (SELECT id FROM rectification_orders
              WHERE org_id = $1 AND property_id = $2 AND status = 'submitted' AND $4::timestamptz IS NOT NULL
                AND (submitted_at, id) < ($4, $3)
              ORDER BY submitted_at DESC, id DESC LIMIT 1) AS previous,
             (SELECT id FROM rectification_orders
              WHERE org_id = $1 AND property_id = $2 AND status = 'submitted' AND id <> $3
                AND ($4::timestamptz IS NULL OR (submitted_at, id) > ($4, $3))
              ORDER BY submitted_at, id LIMIT 1) AS next""",
        org_id,
        property_id,
        order_id,
        submitted_at,
    )
    assert row is not None  # a SELECT without FROM answers one row
    return row


async def verdict_times(conn: asyncpg.Connection, org_id: str, order_id: str) -> dict[int, datetime]:
    """When each verdict on an order was given, by its number (1 for the first, n + 1 after n send-backs)."""
    rows = await conn.fetch(
        "SELECT review, reviewed_at FROM rectification_reviews WHERE org_id = $1 AND order_id = $2", org_id, order_id
    )
    return {row["review"]: row["reviewed_at"] for row in rows}
