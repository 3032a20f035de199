"""SQL for the service desk's ledger (台账): a property's tickets received in a UTC range, one row each, in the
order received. Read through a server-side cursor, a batch at a time, inside the caller's transaction (REPEATABLE
READ READ ONLY: one snapshot for the whole file). Every statement is scoped by org_id ($1)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import asyncpg

# The first resolution (the first applied `resolve` event, as the KPIs judge it) beside the latest (resolved_at).
LEDGER_SQL = """
    SELECT t.id, t.received_at, t.kind, t.category, t.channel, b.name AS building_name, u.number AS unit_number,
           t.location, coalesce(t.caller_name, r.name) AS reporter, coalesce(t.caller_phone, r.phone) AS phone,
           t.description, t.request, t.status, t.decline_reason, rs.name AS responsible_name,
           t.respond_due_original, t.respond_due_at, t.resolve_due_original, t.resolve_due_at,
           t.responded_at, t.resolved_at, first.resolved_at AS first_resolved_at, t.confirmed_at,
           t.confirmed_via, t.reopens, t.visit_rating, t.closed_at
      FROM tickets t
      LEFT JOIN units u ON u.org_id = t.org_id AND u.id = t.unit_id
      LEFT JOIN buildings b ON b.org_id = t.org_id AND b.id = coalesce(t.building_id, u.building_id)
      LEFT JOIN users r ON r.org_id = t.org_id AND r.id = t.reported_by
      LEFT JOIN users rs ON rs.org_id = t.org_id AND rs.id = t.responsible_id
      LEFT JOIN LATERAL (
          SELECT min(e.created_at) AS resolved_at FROM ticket_events e
           WHERE e.org_id = t.org_id AND e.ticket_id = t.id AND e.action = 'resolve' AND e.outcome = 'applied'
      ) first ON true
     WHERE t.org_id = $1 AND t.property_id = $2 AND t.received_at >= $3 AND t.received_at < $4
     ORDER BY t.received_at, t.id"""


async def ledger_batches(
    conn: asyncpg.Connection, org_id: str, property_id: str, start: datetime, end: datetime, size: int = 500
) -> AsyncIterator[list[asyncpg.Record]]:
    """The tickets received in [start, end), `size` at a time, with the names the ledger shows (building, unit
    number, reporter and their phone when no caller was named, the responsible person). Must run inside a
    transaction."""
    cursor = await conn.cursor(LEDGER_SQL, org_id, property_id, start, end)
    while batch := await cursor.fetch(size):
        yield batch
