"""SQL of the tickets, their timeline, promises and default assignees. Every statement is scoped by org_id, except
the worker's scans across orgs (named as such). Column names in `changes` come from our own code."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from core import db
from core.db import insert_row

TICKET_COLUMNS = (
    "org_id, id, property_id, kind, category, channel, unit_id, building_id, location, gps_lat, gps_lon, "
    "reported_by, caller_name, caller_phone, occurred_at, description, request, status, decline_reason, "
    "duplicate_of, accepted_at, accepted_by, responsible_id, assigned_at, respond_due_at, respond_due_original, "
    "resolve_due_at, resolve_due_original, responded_at, responded_by, resolved_at, resolved_by, resolution_note, "
    "confirmed_at, confirmed_via, reopens, visit_due_at, visited_at, visited_by, visit_channel, visit_rating, "
    "visit_comment, closed_at, created_at, received_at"
)
EVENT_COLUMNS = (
    "id, ticket_id, property_id, action, body, rating, public, actor_id, status_before, status_after, outcome, "
    "refusal_en, refusal_zh, data, created_at"
)


async def insert_ticket(conn: asyncpg.Connection, org_id: str, values: dict[str, Any]) -> bool:
    """False when a ticket with this id exists already (a retried request)."""
    row = await insert_row(conn, "tickets", {"org_id": org_id, **values}, tail="ON CONFLICT DO NOTHING RETURNING id")
    return row is not None


async def tickets_by_ids(
    conn: asyncpg.Connection, org_id: str, ids: Sequence[str], *, lock: bool = False
) -> dict[str, asyncpg.Record]:
    rows = await conn.fetch(
        f"SELECT {TICKET_COLUMNS} FROM tickets WHERE org_id = $1 AND id = ANY($2::text[]) ORDER BY created_at, id"
        + (" FOR UPDATE" if lock else ""),
        org_id,
        list(ids),
    )
    return {row["id"]: row for row in rows}


async def set_columns(conn: asyncpg.Connection, org_id: str, ticket_id: str, changes: dict[str, Any]) -> None:
    await db.set_columns(conn, "tickets", org_id, ticket_id, changes)


async def list_tickets(
    conn: asyncpg.Connection,
    org_id: str,
    *,
    property_ids: Sequence[str] | None,
    owner: tuple[Sequence[str], str] | None,
    filters: dict[str, str | None],
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Newest first. `property_ids` None: every property; `owner`: (their units, their id): the household's tickets
    and those they filed; `filters`: status, kind, category, unit_id, responsible_id (None: any)."""
    args: list[Any] = [org_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    where = ["org_id = $1"]
    if property_ids is not None:
        where.append(f"property_id = ANY({arg(list(property_ids))}::text[])")
    if owner is not None:
        units, user_id = owner
        where.append(f"(unit_id = ANY({arg(list(units))}::text[]) OR reported_by = {arg(user_id)})")
    for column in ("status", "kind", "category", "unit_id", "responsible_id"):
        if filters.get(column) is not None:
            where.append(f"{column} = {arg(filters[column])}")
    if after is not None:
        where.append(f"(created_at, id) < ({arg(after[0])}, {arg(after[1])})")
    return await conn.fetch(
        f"SELECT {TICKET_COLUMNS} FROM tickets WHERE {' AND '.join(where)} "
        f"ORDER BY created_at DESC, id DESC LIMIT {arg(limit)}",
        *args,
    )


# --- the timeline ----------------------------------------------------------------------------------------------


async def insert_event(conn: asyncpg.Connection, org_id: str, values: dict[str, Any]) -> None:
    await insert_row(conn, "ticket_events", {"org_id": org_id, **values})


async def update_event(conn: asyncpg.Connection, org_id: str, event_id: str, changes: dict[str, Any]) -> None:
    await db.set_columns(conn, "ticket_events", org_id, event_id, changes)


async def take_pushed_event(conn: asyncpg.Connection, org_id: str, event_id: str, changes: dict[str, Any]) -> None:
    """A phone's request, applied: what the step made of it, and its place in the timeline now."""
    assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changes, start=3))
    await conn.execute(
        f"UPDATE ticket_events SET {assignments}, seq = nextval('ticket_event_order') WHERE org_id = $1 AND id = $2",
        org_id,
        event_id,
        *changes.values(),
    )


async def events_of(
    conn: asyncpg.Connection, org_id: str, ticket_id: str, *, public_only: bool, actor_id: str | None = None
) -> list[asyncpg.Record]:
    """The ticket's timeline, oldest first; `public_only`: what its owners read (and their own refused requests)."""
    return await conn.fetch(
        f"""SELECT {EVENT_COLUMNS} FROM ticket_events
             WHERE org_id = $1 AND ticket_id = $2
               AND (NOT $3 OR (public AND outcome = 'applied') OR actor_id = $4)
             ORDER BY seq""",
        org_id,
        ticket_id,
        public_only,
        actor_id,
    )


async def event_of(conn: asyncpg.Connection, org_id: str, event_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {EVENT_COLUMNS} FROM ticket_events WHERE org_id = $1 AND id = $2", org_id, event_id
    )
    return row


async def pushed_events(conn: asyncpg.Connection, org_id: str, ids: Sequence[str]) -> list[asyncpg.Record]:
    """Events a phone pushed and nobody applied yet, in the order the phone made them."""
    return await conn.fetch(
        f"""SELECT {EVENT_COLUMNS} FROM ticket_events
             WHERE org_id = $1 AND id = ANY($2::text[]) AND outcome = 'pending' ORDER BY created_at, seq""",
        org_id,
        list(ids),
    )


# --- tickets filed from phones (batched: a push may carry hundreds) ----------------------------------------------


async def filed(conn: asyncpg.Connection, org_id: str, ids: Sequence[str]) -> list[asyncpg.Record]:
    """Tickets a push created, with what the server checks: the unit's property and building."""
    return await conn.fetch(
        """SELECT t.id, t.property_id, t.unit_id, t.building_id, t.channel, t.reported_by, t.kind, t.category,
                  t.description, t.created_at, u.property_id AS unit_property_id, u.building_id AS unit_building_id,
                  b.property_id AS building_property_id
             FROM tickets t
             LEFT JOIN units u ON u.org_id = t.org_id AND u.id = t.unit_id
             LEFT JOIN buildings b ON b.org_id = t.org_id AND b.id = t.building_id
            WHERE t.org_id = $1 AND t.id = ANY($2::text[])
            ORDER BY t.id""",
        org_id,
        list(ids),
    )


async def place(conn: asyncpg.Connection, org_id: str, unit_id: str | None, building_id: str | None) -> asyncpg.Record:
    """The property and building of a unit, and the property of a building (null: no such one), as `filed` reads
    them."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """SELECT u.property_id AS unit_property_id, u.building_id AS unit_building_id,
                  (SELECT b.property_id FROM buildings b WHERE b.org_id = $1 AND b.id = $3) AS building_property_id
             FROM (SELECT 1) AS one
             LEFT JOIN units u ON u.org_id = $1 AND u.id = $2""",
        org_id,
        unit_id,
        building_id,
    )
    assert row is not None, "a select from one row yields one"
    return row


async def fill_buildings(conn: asyncpg.Connection, org_id: str, ids: Sequence[str]) -> None:
    """Tickets a phone filed for a unit without naming its building: the unit's."""
    await conn.execute(
        """UPDATE tickets t SET building_id = u.building_id FROM units u
            WHERE t.org_id = $1 AND t.id = ANY($2::text[]) AND u.org_id = t.org_id AND u.id = t.unit_id""",
        org_id,
        list(ids),
    )


async def share_photos(conn: asyncpg.Connection, org_id: str, photo_ids: Sequence[str]) -> None:
    """The household of each ticket a before or after photo of these is for may see it (their owners' scope)."""
    await conn.execute(
        """UPDATE photos p SET owner_unit_id = t.unit_id FROM tickets t
            WHERE p.org_id = $1 AND p.id = ANY($2::text[]) AND p.record_table = 'tickets'
              AND p.purpose IN ('before', 'after') AND t.org_id = p.org_id AND t.id = p.record_id
              AND t.unit_id IS NOT NULL AND p.owner_unit_id IS DISTINCT FROM t.unit_id""",
        org_id,
        list(photo_ids),
    )


# --- promises and default assignees -----------------------------------------------------------------------------


async def promise(
    conn: asyncpg.Connection, org_id: str, property_id: str, kind: str, category: str
) -> asyncpg.Record | None:
    """The property's promise for the kind and category, else for the kind ('*')."""
    return await conn.fetchrow(
        """SELECT respond_minutes, resolve_minutes FROM ticket_promises
            WHERE org_id = $1 AND property_id = $2 AND kind = $3 AND category IN ($4, '*')
            ORDER BY category = '*' LIMIT 1""",
        org_id,
        property_id,
        kind,
        category,
    )


async def list_promises(conn: asyncpg.Connection, org_id: str, property_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT kind, category, respond_minutes, resolve_minutes, updated_by, updated_at FROM ticket_promises
            WHERE org_id = $1 AND property_id = $2 ORDER BY kind, category""",
        org_id,
        property_id,
    )


async def set_promise(
    conn: asyncpg.Connection, org_id: str, property_id: str, values: dict[str, Any]
) -> asyncpg.Record | None:
    """Insert or replace; the row as it was before (None: there was none)."""
    before = await conn.fetchrow(
        """SELECT respond_minutes, resolve_minutes FROM ticket_promises
            WHERE org_id = $1 AND property_id = $2 AND kind = $3 AND category = $4 FOR UPDATE""",
        org_id,
        property_id,
        values["kind"],
        values["category"],
    )
    await conn.execute(
        """INSERT INTO ticket_promises (org_id, property_id, kind, category, respond_minutes, resolve_minutes,
                                        updated_by, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (org_id, property_id, kind, category) DO UPDATE
              SET respond_minutes = EXCLUDED.respond_minutes, resolve_minutes = EXCLUDED.resolve_minutes,
                  updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at""",
        org_id,
        property_id,
        values["kind"],
        values["category"],
        values["respond_minutes"],
        values["resolve_minutes"],
        values["updated_by"],
        values["updated_at"],
    )
    return before


async def delete_promise(conn: asyncpg.Connection, org_id: str, property_id: str, kind: str, category: str) -> bool:
    status: str = await conn.execute(
        "DELETE FROM ticket_promises WHERE org_id = $1 AND property_id = $2 AND kind = $3 AND category = $4",
        org_id,
        property_id,
        kind,
        category,
    )
    return status != "DELETE 0"


async def default_assignee(conn: asyncpg.Connection, org_id: str, property_id: str, category: str) -> str | None:
    """The person set for the category (whether they still work there is the caller's to check)."""
    value: str | None = await conn.fetchval(
        "SELECT user_id FROM ticket_assignees WHERE org_id = $1 AND property_id = $2 AND category = $3",
        org_id,
        property_id,
        category,
    )
    return value


async def list_assignees(conn: asyncpg.Connection, org_id: str, property_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT category, user_id FROM ticket_assignees WHERE org_id = $1 AND property_id = $2 ORDER BY category",
        org_id,
        property_id,
    )


async def set_assignee(conn: asyncpg.Connection, org_id: str, property_id: str, category: str, user_id: str) -> None:
    await conn.execute(
        """INSERT INTO ticket_assignees (org_id, property_id, category, user_id) VALUES ($1, $2, $3, $4)
           ON CONFLICT (org_id, property_id, category) DO UPDATE SET user_id = EXCLUDED.user_id""",
        org_id,
        property_id,
        category,
        user_id,
    )


async def delete_assignee(conn: asyncpg.Connection, org_id: str, property_id: str, category: str) -> bool:
    status: str = await conn.execute(
        "DELETE FROM ticket_assignees WHERE org_id = $1 AND property_id = $2 AND category = $3",
        org_id,
        property_id,
        category,
    )
    return status != "DELETE 0"


# --- who hears of a ticket --------------------------------------------------------------------------------------


async def owners_to_tell(conn: asyncpg.Connection, org_id: str, unit_id: str | None, reported_by: str) -> list[str]:
    """The household's owners, and whoever filed the ticket if they are an owner."""
    rows = await conn.fetch(
        """SELECT user_id FROM unit_owners WHERE org_id = $1 AND unit_id = $2
           UNION
           SELECT id FROM users WHERE org_id = $1 AND id = $3 AND role = 'owner'
           ORDER BY 1""",
        org_id,
        unit_id,
        reported_by,
    )
    return [row["user_id"] for row in rows]


# --- the worker's scans, across orgs -----------------------------------------------------------------------------


async def awaiting_response_by(conn: asyncpg.Connection, horizon: datetime) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {TICKET_COLUMNS} FROM tickets
             WHERE status IN ('accepted', 'assigned') AND responded_at IS NULL AND respond_due_at <= $1
             ORDER BY respond_due_at, org_id, id""",
        horizon,
    )


async def awaiting_resolution_by(conn: asyncpg.Connection, horizon: datetime) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {TICKET_COLUMNS} FROM tickets
             WHERE status IN ('accepted', 'assigned', 'responded') AND resolve_due_at <= $1
             ORDER BY resolve_due_at, org_id, id""",
        horizon,
    )


async def awaiting_visit_by(conn: asyncpg.Connection, horizon: datetime) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {TICKET_COLUMNS} FROM tickets
             WHERE status IN ('resolved', 'confirmed') AND visit_due_at <= $1
             ORDER BY visit_due_at, org_id, id""",
        horizon,
    )


async def unconfirmed_since(conn: asyncpg.Connection, resolved_before: datetime) -> list[asyncpg.Record]:
    """Resolved tickets the owner has not answered for since `resolved_before`."""
    return await conn.fetch(
        "SELECT org_id, id FROM tickets WHERE status = 'resolved' AND resolved_at <= $1 ORDER BY resolved_at, id",
        resolved_before,
    )
