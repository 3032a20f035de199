"""SQL for improvement actions and published results. Every statement is scoped by org_id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from core.db import insert_row

ACTION = """
    SELECT id, campaign_id, property_id, dimension, kind, title_zh, title_en, responsible_id, due_at, order_id,
           status, done_at, done_note, published_property_id, created_by, created_at
    FROM survey_actions"""


async def insert_action(conn: asyncpg.Connection, org_id: str, values: dict[str, Any]) -> bool:
    """False when an action with this id exists (a retried call)."""
    inserted = await insert_row(
        conn, "survey_actions", {"org_id": org_id, **values}, tail="ON CONFLICT (org_id, id) DO NOTHING RETURNING id"
    )
    return inserted is not None


async def actions_by_ids(conn: asyncpg.Connection, org_id: str, ids: list[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"{ACTION} WHERE org_id = $1 AND id = ANY($2::text[]) ORDER BY array_position($2::text[], id)", org_id, ids
    )


async def campaign_actions(conn: asyncpg.Connection, org_id: str, campaign_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"{ACTION} WHERE org_id = $1 AND campaign_id = $2 ORDER BY created_at, id", org_id, campaign_id
    )


async def action(conn: asyncpg.Connection, org_id: str, action_id: str, *, lock: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"{ACTION} WHERE org_id = $1 AND id = $2 {'FOR UPDATE' if lock else ''}", org_id, action_id
    )


async def mark_done(conn: asyncpg.Connection, org_id: str, action_id: str, at: datetime, note: str | None) -> None:
    await conn.execute(
        "UPDATE survey_actions SET status = 'done', done_at = $3, done_note = $4 WHERE org_id = $1 AND id = $2",
        org_id,
        action_id,
        at,
        note,
    )


async def publish_actions(conn: asyncpg.Connection, org_id: str, campaign_id: str, property_id: str) -> None:
    """The campaign's actions become visible to the property's owners (sync)."""
    await conn.execute(
        """UPDATE survey_actions SET published_property_id = $3
           WHERE org_id = $1 AND campaign_id = $2 AND published_property_id IS NULL""",
        org_id,
        campaign_id,
        property_id,
    )


async def set_results(
    conn: asyncpg.Connection, org_id: str, campaign_id: str, published_at: datetime, results: Any
) -> None:
    await conn.execute(
        "UPDATE survey_campaigns SET published_at = $3, results = $4 WHERE org_id = $1 AND id = $2",
        org_id,
        campaign_id,
        published_at,
        results,
    )


async def open_plain_actions_due_by(conn: asyncpg.Connection, horizon: datetime) -> list[asyncpg.Record]:
    """Open plain actions of every org whose deadline is at or before `horizon` (overdue ones included). An
    action that is a rectification order is chased as that order."""
    return await conn.fetch(
        """SELECT org_id, id, property_id, responsible_id, due_at, title_zh, title_en, dimension, campaign_id
           FROM survey_actions WHERE kind = 'action' AND status = 'open' AND due_at <= $1 ORDER BY due_at""",
        horizon,
    )
