"""SQL of what an owner's pages read beside the tickets: their households (where they may file) with their
property's name and zone, the zones of the properties their tickets are in, and a ticket's photos they may see."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg


async def zones(conn: asyncpg.Connection, org_id: str, property_ids: Sequence[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT id, timezone FROM properties WHERE org_id = $1 AND id = ANY($2::text[])", org_id, list(property_ids)
    )
    return {row["id"]: row["timezone"] for row in rows}


async def ticket_photos(
    conn: asyncpg.Connection, org_id: str, ticket_id: str, user_id: str, unit_ids: Sequence[str]
) -> list[asyncpg.Record]:
    """A ticket's before and after photos an owner sees under the photos' read rule (sync/tables.py: theirs, or
    named for their household), oldest first."""
    return await conn.fetch(
        """SELECT id, purpose, status FROM photos
            WHERE org_id = $1 AND record_table = 'tickets' AND record_id = $2 AND purpose IN ('before', 'after')
              AND (uploaded_by = $3 OR owner_unit_id = ANY($4::text[]))
            ORDER BY received_at, id""",
        org_id,
        ticket_id,
        user_id,
        list(unit_ids),
    )
