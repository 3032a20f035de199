"""What the server does with the service desk's records a phone pushed, in the push's transaction: a filed ticket
is checked (its household, its channel) and completed (its building, status, the time it reached the desk); a
pushed event is a request for a step, applied through the same rules as the REST API (servicedesk/steps.py).

A ticket naming a household that is not the owner's refuses the whole push, as any record outside the caller's
scope does. A step the rules refuse does not: the phone may have asked offline for something overtaken since
(the ticket was resolved again, or closed). The event says so on itself (`outcome`, `refusal_en`, `refusal_zh`)
and the phone hears of it at its next pull, as a refused photo does; the rest of the push stands.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

import asyncpg
import msgspec
from msgspec import Meta

from core import jsontext
from core.access import Caller
from core.audit.service import record_changes
from core.clock import Clock
from core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from core.settings import Settings
from core.structs import record_as
from servicedesk.lifecycle import Actor, Request
from servicedesk.repository import tickets as sql
from servicedesk.steps import locked_ticket, standing_of, take_step
from servicedesk.tickets import NotYours, Place, Refused, building_for, channel_for, tell_desk
from sync.push import PushRule, Written
from sync.scope import Grants

REFUSED_ZH: dict[type[DomainError], str] = {
    Conflict: "工单当前状态不允许此操作",
    Forbidden: "您无权对该工单执行此操作",
    NotFound: "未找到该工单",
    Invalid: "填写有误",
}


def rules(clock: Clock, settings: Settings) -> PushRule:
    async def settle(conn: asyncpg.Connection, caller: Caller, grants: Grants, written: Mapping[str, Written]) -> None:
        now = clock.now()
        tickets = written.get("tickets")
        if tickets is not None and tickets.created:
            await _file(conn, caller, grants, tickets.created, now)
        photos = written.get("photos")
        if photos is not None and photos.created:
            await sql.share_photos(conn, caller.org_id, photos.created)
        events = written.get("ticket_events")
        if events is not None and events.created:
            for row in await sql.pushed_events(conn, caller.org_id, events.created):
                await _apply(conn, caller, row, now, settings.ticket_visit_days)

    return settle


def _refusal(ticket_id: str, refused: Refused) -> DomainError:
    """A filing refused, named by its record; a household not the owner's is outside their scope."""
    if isinstance(refused, NotYours):
        return Forbidden(f"tickets.{ticket_id}: {refused.message}", table="tickets", id=ticket_id)
    message = f"tickets.{ticket_id}.{refused.field}: {refused.message}"
    return Invalid(message, table="tickets", id=ticket_id, column=refused.field)


async def _file(conn: asyncpg.Connection, caller: Caller, grants: Grants, ids: list[str], now: datetime) -> None:
    """Check what a push filed. The row is whole as written (status and `received_at` are the table's defaults, the
    latter the app's clock): only a unit's building, when the phone left it out, is filled in. Batched: a push may
    carry hundreds."""
    by_property: dict[str, list[asyncpg.Record]] = {}
    unbuilt: list[str] = []
    owned = grants.units if caller.role == "owner" else None
    for row in await sql.filed(conn, caller.org_id, ids):
        try:
            building_for(row["property_id"], row["unit_id"], row["building_id"], record_as(row, Place), owned)
            channel_for(caller.role, row["channel"])
        except Refused as refused:
            raise _refusal(row["id"], refused) from None
        if row["unit_id"] is not None and row["building_id"] is None:
            unbuilt.append(row["id"])
        by_property.setdefault(row["property_id"], []).append(row)
    if not by_property:
        return
    if unbuilt:
        await sql.fill_buildings(conn, caller.org_id, unbuilt)
    filed = [
        (r["id"], {k: r[k] for k in ("kind", "category", "channel", "unit_id")})
        for rs in by_property.values()
        for r in rs
    ]
    await record_changes(conn, caller, "ticket.file", "ticket", filed)
    for property_id, rows in by_property.items():
        await tell_desk(conn, caller.org_id, property_id, [r["id"] for r in rows], [r["description"] for r in rows])


class _Asked(msgspec.Struct, forbid_unknown_fields=True):
    """What a pushed event's `data` may add to its body and rating."""

    assignee_id: str | None = None
    duplicate_of: str | None = None
    which: str | None = None
    due_at: Annotated[datetime, Meta(tz=True)] | None = None  # a moment with its offset, as the REST body's
    channel: str | None = None


def _request(row: asyncpg.Record) -> Request:
    raw: Any = row["data"]
    try:
        data = jsontext.decode(raw) if isinstance(raw, str | bytes) else raw
        asked = msgspec.convert(data or {}, _Asked)
        return msgspec.convert(
            {
                "note": row["body"],
                "rating": row["rating"],
                "public": row["public"] is not False,
                **{k: v for k, v in msgspec.structs.asdict(asked).items() if v is not None},
            },
            Request,
        )
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise Invalid(f"data: {exc}") from None


async def _apply(conn: asyncpg.Connection, caller: Caller, row: asyncpg.Record, now: datetime, visit_days: int) -> None:
    # the moment the phone recorded (an engineer arriving in a basement), never later than the server's now
    when = min(row["created_at"], now)
    try:
        async with conn.transaction():  # a savepoint: a refused step leaves the rest of the push standing
            ticket = await locked_ticket(conn, caller.org_id, row["ticket_id"])
            standing = await standing_of(conn, caller, ticket)
            if standing is None or ticket.property_id != row["property_id"]:
                raise NotFound(f"ticket {row['ticket_id']} not found", entity="ticket", id=row["ticket_id"])
            when = max(when, ticket.received_at)
            actor = Actor(user_id=caller.user_id, standing=standing)
            await take_step(
                conn, ticket, row["action"], actor, _request(row), when, visit_days=visit_days, event_id=row["id"]
            )
    except (Conflict, Forbidden, NotFound, Invalid) as refused:
        zh = next(text for kind, text in REFUSED_ZH.items() if isinstance(refused, kind))
        details = "; ".join(f"{e.field}: {e.message}" for e in getattr(refused, "errors", None) or [])
        await sql.update_event(
            conn,
            caller.org_id,
            row["id"],
            {
                "outcome": "refused",
                "refusal_en": refused.detail,
                "refusal_zh": f"{zh}：{details}" if details else zh,
                "owner_user_id": caller.user_id if caller.role == "owner" else None,
            },
        )
