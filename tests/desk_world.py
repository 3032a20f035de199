"""Service desk tickets and their events, arranged with plain INSERTs for the KPI and ledger tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

SHANGHAI = ZoneInfo("Asia/Shanghai")

TICKET_COLUMNS = (
    "kind category channel unit_id location reported_by caller_name caller_phone description status "
    "responsible_id received_at respond_due_original respond_due_at resolve_due_original resolve_due_at "
    "responded_at resolved_at confirmed_at confirmed_via reopens visited_at visit_rating closed_at"
).split()


def local(text: str | None) -> datetime | None:
    """A wall-clock time in Shanghai (the properties' zone in tests/world.py), as an aware datetime."""
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


async def insert_ticket(conn: asyncpg.Connection, org_id: str, property_id: str, id: str, **given: Any) -> None:
    """A ticket row; times given as Shanghai wall-clock text ('2025-06-02 09:00')."""
    values = {
        "kind": "repair",
        "category": "engineering",
        "channel": "app",
        "description": f"ticket {id}",
        "status": "received",
        "reopens": 0,
        **given,
    }
    for key, value in values.items():
        if key.endswith("_at") or key.endswith("_original"):
            values[key] = local(value)
    values["created_at"] = values["received_at"]
    names = [c for c in (*TICKET_COLUMNS, "created_at") if c in values]
    placeholders = ", ".join(f"${i + 4}" for i in range(len(names)))
    await conn.execute(
        f"""INSERT INTO tickets (org_id, property_id, id, {", ".join(names)}) VALUES ($1, $2, $3, {placeholders})""",
        org_id,
        property_id,
        id,
        *(values[n] for n in names),
    )


async def insert_events(conn: asyncpg.Connection, org_id: str, property_id: str, events: list[tuple[Any, ...]]) -> None:
    """(ticket_id, action, at, status_after, rating, outcome) each; at in Shanghai wall-clock text."""
    await conn.executemany(
        """INSERT INTO ticket_events (org_id, id, ticket_id, property_id, action, created_at, status_after, rating,
                                      outcome)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        [
            (org_id, f"e{i}", ticket, property_id, action, local(at), after, rating, outcome)
            for i, (ticket, action, at, after, rating, outcome) in enumerate(events)
        ],
    )
