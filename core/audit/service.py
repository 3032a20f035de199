"""The audit trail: who, when, which entity, before and after — written inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from core.access import Caller
from core.audit import repository
from core.errors import BadRequest
from core.structs import Page, Struct, cursor_after


class AuditEntry(Struct):
    id: int
    at: datetime
    actor_id: str | None
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _plain(value: Any) -> Any:
    return None if value is None else msgspec.to_builtins(value)


async def record(
    conn: asyncpg.Connection,
    *,
    org_id: str,
    actor_id: str | None,
    action: str,
    entity: str,
    entity_id: str,
    before: Any = None,
    after: Any = None,
) -> None:
    """Append one entry; `before`/`after` are Structs or plain values (secrets must not be in them)."""
    await repository.insert(
        conn,
        org_id=org_id,
        actor_id=actor_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=_plain(before),
        after=_plain(after),
    )


async def list_entries(
    conn: asyncpg.Connection, *, org_id: str, entity: str | None, entity_id: str | None, cursor: str | None, limit: int
) -> Page[AuditEntry]:
    if cursor is not None and not (cursor.isdigit() and len(cursor) <= 18):  # a bigint id
        raise BadRequest("cursor must be the next_cursor of a page of the audit trail", parameter="cursor")
    before_id = int(cursor) if cursor is not None else None
    rows = await repository.select(
        conn, org_id=org_id, entity=entity, entity_id=entity_id, before_id=before_id, limit=limit + 1
    )
    items = [msgspec.convert(dict(r), AuditEntry) for r in rows[:limit]]
    return Page(items=items, next_cursor=cursor_after(str(items[-1].id)) if len(rows) > limit else None)


async def record_changes(
    conn: asyncpg.Connection, caller: Caller, action: str, entity: str, changes: list[tuple[str, Any]]
) -> None:
    """`record_change` of one action on many entities at once (a push of hundreds): (entity id, after) each."""
    rows = [(entity_id, _plain(after)) for entity_id, after in changes]
    await repository.insert_many(conn, caller.org_id, caller.user_id, action, entity, rows)


async def record_change(
    conn: asyncpg.Connection,
    caller: Caller,
    action: str,
    entity: str,
    entity_id: str,
    *,
    before: Any = None,
    after: Any = None,
) -> None:
    """`record` for a change a signed-in person made."""
    await record(
        conn,
        org_id=caller.org_id,
        actor_id=caller.user_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
    )
