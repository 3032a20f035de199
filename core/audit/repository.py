"""SQL of the audit trail."""

from __future__ import annotations

from typing import Any

import asyncpg


async def insert(
    conn: asyncpg.Connection,
    *,
    org_id: str,
    actor_id: str | None,
    action: str,
    entity: str,
    entity_id: str,
    before: Any,
    after: Any,
) -> None:
    await conn.execute(
        """INSERT INTO audit_log (org_id, actor_id, action, entity, entity_id, before, after)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        org_id,
        actor_id,
        action,
        entity,
        entity_id,
        before,
        after,
    )


async def insert_many(
    conn: asyncpg.Connection, org_id: str, actor_id: str | None, action: str, entity: str, rows: list[tuple[str, Any]]
) -> None:
    """One action on many entities: (entity_id, after) each, in one round trip."""
    await conn.executemany(
        """INSERT INTO audit_log (org_id, actor_id, action, entity, entity_id, before, after)
           VALUES ($1, $2, $3, $4, $5, NULL, $6)""",
        [(org_id, actor_id, action, entity, entity_id, after) for entity_id, after in rows],
    )


async def select(
    conn: asyncpg.Connection,
    *,
    org_id: str,
    entity: str | None,
    entity_id: str | None,
    before_id: int | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, at, actor_id, action, entity, entity_id, before, after FROM audit_log
           WHERE org_id = $1 AND ($2::text IS NULL OR entity = $2) AND ($3::text IS NULL OR entity_id = $3)
             AND ($4::bigint IS NULL OR id < $4)
           ORDER BY id DESC LIMIT $5""",
        org_id,
        entity,
        entity_id,
        before_id,
        limit,
    )
