"""What a property promises its owners (服务承诺): minutes to respond to a ticket and to resolve it, by kind and
category. A property sets its own (for a category, or '*' for every category of a kind); without one, the
practice's defaults below hold: a repair is answered in 4 hours and fixed in 24; a complaint answered in 24 and
resolved in 72. The clock starts when the ticket reaches the desk (`received_at`), not when someone accepts it:
a slow acceptance is the desk's lateness, not the owner's."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from core.access import Caller, require_property
from core.audit.service import record_change
from core.errors import NotFound
from core.vocabulary import CATEGORIES
from servicedesk.models import KINDS, Kind
from servicedesk.repository import tickets as sql
from servicedesk.schemas import PromiseOut, PromiseSet

HOUR = 60
# kind -> (respond, resolve) minutes
DEFAULTS: dict[Kind, tuple[int, int]] = {
    "repair": (4 * HOUR, 24 * HOUR),
    "complaint": (24 * HOUR, 72 * HOUR),
    "enquiry": (4 * HOUR, 24 * HOUR),
    "suggestion": (24 * HOUR, 7 * 24 * HOUR),
    "praise": (24 * HOUR, 72 * HOUR),
}


async def promise_for(
    conn: asyncpg.Connection, org_id: str, property_id: str, kind: Kind, category: str
) -> tuple[int, int]:
    row = await sql.promise(conn, org_id, property_id, kind, category)
    return (row["respond_minutes"], row["resolve_minutes"]) if row else DEFAULTS[kind]


async def list_promises(conn: asyncpg.Connection, caller: Caller, property_id: str) -> list[PromiseOut]:
    """The property's own promises, then the defaults of the kinds it has not set for every category."""
    await require_property(conn, caller, property_id)
    own = [
        PromiseOut(**dict(row), source="property") for row in await sql.list_promises(conn, caller.org_id, property_id)
    ]
    covered = {p.kind for p in own if p.category == "*"}
    defaults = [
        PromiseOut(kind=kind, category="*", respond_minutes=r, resolve_minutes=s, source="default")
        for kind, (r, s) in DEFAULTS.items()
        if kind not in covered
    ]
    return own + defaults


def _check_key(kind: str, category: str) -> None:
    if kind not in KINDS or (category != "*" and category not in CATEGORIES):
        raise NotFound(
            f"no promise {kind}/{category}: kinds are {', '.join(KINDS)}; categories {', '.join(CATEGORIES)} or *",
            entity="ticket_promise",
        )


async def set_promise(
    conn: asyncpg.Connection,
    caller: Caller,
    property_id: str,
    kind: str,
    category: str,
    data: PromiseSet,
    now: datetime,
) -> PromiseOut:
    await require_property(conn, caller, property_id, "supervise")
    _check_key(kind, category)
    values = {
        "kind": kind,
        "category": category,
        "respond_minutes": data.respond_minutes,
        "resolve_minutes": data.resolve_minutes,
        "updated_by": caller.user_id,
        "updated_at": now,
    }
    before = await sql.set_promise(conn, caller.org_id, property_id, values)
    await record_change(
        conn,
        caller,
        "ticket_promise.set",
        "ticket_promise",
        f"{property_id}:{kind}:{category}",
        before=dict(before) if before else None,
        after=values,
    )
    return msgspec.convert(values | {"source": "property"}, PromiseOut)


async def remove_promise(conn: asyncpg.Connection, caller: Caller, property_id: str, kind: str, category: str) -> None:
    await require_property(conn, caller, property_id, "supervise")
    _check_key(kind, category)
    if not await sql.delete_promise(conn, caller.org_id, property_id, kind, category):
        raise NotFound(
            f"property {property_id} has no promise of its own for {kind}/{category}", entity="ticket_promise"
        )
    await record_change(conn, caller, "ticket_promise.remove", "ticket_promise", f"{property_id}:{kind}:{category}")
