"""The tickets' use cases for the REST API: filing one (the front desk and hotline typing it in, an owner's app or
web page, staff on a round), reading one with its timeline, the lists people work from, and taking a step
(servicedesk/steps.py). Phones file and step through sync instead (servicedesk/push.py), under the same rules
(`check_where`, `channel_for`, `take_step`)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from core.access import Caller, require_property, visible_property_ids
from core.audit.service import record_change
from core.errors import BadRequest, Conflict, FieldError, Invalid, NotFound
from core.ids import new_id
from core.notifications.service import notify
from core.people import repository as people_sql
from core.places import repository as places_sql
from core.structs import Page, cursor_after, record_as
from servicedesk.lifecycle import Actor, Request, Standing, allowed
from servicedesk.models import Channel
from servicedesk.repository import tickets as sql
from servicedesk.schemas import EventOut, StepIn, TicketCreate, TicketOut
from servicedesk.steps import locked_ticket, standing_of, take_step, ticket_of

OWNER_CHANNELS: tuple[Channel, ...] = ("app", "web")
STAFF_CHANNELS: tuple[Channel, ...] = ("front_desk", "hotline", "round")


class Refused(Invalid):
    """One value refused: `field` names it, `message` says why (the push names the record instead)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", [FieldError(field=field, message=message)])
        self.field, self.message = field, message


def channel_for(role: str, given: str | None) -> Channel:
    """Owners file from the app or the web page; staff at the front desk, on the hotline or on a round."""
    channels = OWNER_CHANNELS if role == "owner" else STAFF_CHANNELS
    if given is None:
        return channels[0]
    if given not in channels:
        raise Refused("channel", f"{'an owner' if role == 'owner' else 'staff'} files through {', '.join(channels)}")
    return given


class NotYours(Refused):
    """An owner naming a household not theirs (a push refuses it as a record outside the caller's scope)."""


class Place(msgspec.Struct, frozen=True, kw_only=True):
    """What the database says of the unit and building a ticket names (None: no such one)."""

    unit_property_id: str | None = None
    unit_building_id: str | None = None
    building_property_id: str | None = None


def building_for(
    property_id: str,
    unit_id: str | None,
    building_id: str | None,
    place: Place,
    owned_units: Collection[str] | None,
) -> str | None:
    """The building of the place a ticket names (a unit's own), refusing a unit or building of another property, a
    unit in another building than the one named, and an owner (`owned_units`: theirs) naming a household not
    theirs. The one rule for a ticket filed over REST and one a phone pushed."""
    if unit_id is not None:
        if place.unit_property_id != property_id:
            raise Refused("unit_id", "not a unit of this property")
        if owned_units is not None and unit_id not in owned_units:
            raise NotYours("unit_id", "you may file only for your own household")
        if building_id is not None and building_id != place.unit_building_id:
            raise Refused("building_id", "the unit is in another building")
        return place.unit_building_id
    if building_id is not None and place.building_property_id != property_id:
        raise Refused("building_id", "not a building of this property")
    return building_id


async def check_where(
    conn: asyncpg.Connection, caller: Caller, property_id: str, unit_id: str | None, building_id: str | None
) -> str | None:
    """`building_for` the place a REST filing names."""
    place = record_as(await sql.place(conn, caller.org_id, unit_id, building_id), Place)
    owned = None
    if caller.role == "owner" and unit_id is not None:
        owned = {row["id"] for row in await places_sql.owned_units(conn, caller.org_id, caller.user_id)}
    return building_for(property_id, unit_id, building_id, place, owned)


async def file_ticket(
    conn: asyncpg.Connection, caller: Caller, property_id: str, data: TicketCreate, now: datetime
) -> tuple[TicketOut, bool]:
    """(the ticket, whether it was filed now): the same id sent again answers the ticket it filed."""
    await require_property(conn, caller, property_id)
    ticket_id = data.id or new_id()
    existing = (await sql.tickets_by_ids(conn, caller.org_id, [ticket_id])).get(ticket_id)
    if existing is not None:
        if existing["reported_by"] != caller.user_id or existing["property_id"] != property_id:
            raise Conflict(f"ticket id {ticket_id} is taken", field="id")
        return await ticket_out(conn, caller, ticket_id), False
    building_id = await check_where(conn, caller, property_id, data.unit_id, data.building_id)
    values: dict[str, Any] = msgspec.structs.asdict(data) | {
        "id": ticket_id,
        "property_id": property_id,
        "building_id": building_id,
        "channel": channel_for(caller.role, data.channel),
        "reported_by": caller.user_id,
        "status": "received",
        "created_at": now,
        "received_at": now,
    }
    if not await sql.insert_ticket(conn, caller.org_id, values):  # a retry racing its first attempt
        return await ticket_out(conn, caller, ticket_id), False
    await record_change(conn, caller, "ticket.file", "ticket", ticket_id, after=values)
    await tell_desk(conn, caller.org_id, property_id, [ticket_id], [data.description])
    return await ticket_out(conn, caller, ticket_id), True


async def tell_desk(
    conn: asyncpg.Connection, org_id: str, property_id: str, ticket_ids: list[str], descriptions: list[str]
) -> None:
    """The property's supervisors hear of new tickets: one notice per filing (a push of many makes one)."""
    supervisors = await people_sql.supervisors_of(conn, org_id, property_id)
    many = len(ticket_ids) > 1
    await notify(
        conn,
        org_id=org_id,
        dedupe_key=f"tickets-filed:{ticket_ids[0]}",
        kind="ticket.filed",
        recipients=supervisors,
        title_zh=f"新工单 {len(ticket_ids)} 张" if many else f"新工单：{descriptions[0][:60]}",
        title_en=f"{len(ticket_ids)} new tickets" if many else f"New ticket: {descriptions[0][:60]}",
        property_id=property_id,
        record_table="tickets",
        record_id=ticket_ids[0],
        data={"ticket_ids": ticket_ids[:100]},
    )


async def ticket_out(
    conn: asyncpg.Connection, caller: Caller, ticket_id: str, standing: Standing | None = None
) -> TicketOut:
    """The ticket with its timeline as the caller may see it; `standing`: what the caller is to it, when the
    caller has worked that out already (a step does not change it)."""
    row = (await sql.tickets_by_ids(conn, caller.org_id, [ticket_id])).get(ticket_id)
    missing = NotFound(f"ticket {ticket_id} not found", entity="ticket", id=ticket_id)
    if row is None:
        raise missing
    ticket = ticket_of(row)
    standing = standing or await standing_of(conn, caller, ticket)
    if standing is None:
        raise missing
    rows = await sql.events_of(conn, caller.org_id, ticket_id, public_only=standing == "owner", actor_id=caller.user_id)
    events = [_filing(row), *(record_as(r, EventOut) for r in rows)]
    return _out(row, allowed(ticket, Actor(user_id=caller.user_id, standing=standing)), events)


def _filing(ticket: asyncpg.Record) -> EventOut:
    """The timeline's first line, from the ticket's own row (filing writes no event: a push of hundreds of tickets
    writes only the tickets)."""
    return EventOut(
        id=f"{ticket['id']}.file",
        created_at=ticket["received_at"],
        action="file",
        body=None,
        rating=None,
        public=True,
        actor_id=ticket["reported_by"],
        status_before=None,
        status_after="received",
        outcome="applied",
        data={"channel": ticket["channel"]},
    )


def _out(row: asyncpg.Record, can: list[Any], events: list[EventOut] | None) -> TicketOut:
    return msgspec.structs.replace(record_as(row, TicketOut), allowed=can, timeline=events)


async def step(
    conn: asyncpg.Connection, caller: Caller, ticket_id: str, body: StepIn, now: datetime, visit_days: int
) -> TicketOut:
    ticket = await locked_ticket(conn, caller.org_id, ticket_id)
    standing = await standing_of(conn, caller, ticket)
    if standing is None:
        raise NotFound(f"ticket {ticket_id} not found", entity="ticket", id=ticket_id)
    if body.id is not None:
        taken = await sql.event_of(conn, caller.org_id, body.id)
        if taken is not None:
            if (taken["ticket_id"], taken["actor_id"], taken["action"]) != (ticket_id, caller.user_id, body.action):
                raise Conflict(f"step id {body.id} is taken", field="id")
            return await ticket_out(conn, caller, ticket_id, standing)  # a retry: the step was taken
    fields = msgspec.structs.asdict(body)
    request = Request(**{k: v for k, v in fields.items() if k not in ("action", "id")})
    actor = Actor(user_id=caller.user_id, standing=standing)
    await take_step(
        conn, ticket, body.action, actor, request, now, visit_days=visit_days, event_id=body.id, new_event=True
    )
    return await ticket_out(conn, caller, ticket_id, standing)


def _page_key(key: str | None) -> tuple[datetime, str] | None:
    """The list's position from the cursor's key (the `Cursor` dependency has read and checked the cursor)."""
    if key is None:
        return None
    moment, _, ticket_id = key.partition("|")
    try:
        return datetime.fromisoformat(moment), ticket_id
    except ValueError:
        raise BadRequest("cursor must be the next_cursor of a page of this list", parameter="cursor") from None


async def _page(
    conn: asyncpg.Connection,
    caller: Caller,
    *,
    property_ids: list[str] | None,
    owner: tuple[list[str], str] | None,
    filters: dict[str, str | None],
    cursor: str | None,
    limit: int,
) -> Page[TicketOut]:
    rows = await sql.list_tickets(
        conn,
        caller.org_id,
        property_ids=property_ids,
        owner=owner,
        filters=filters,
        after=_page_key(cursor),
        limit=limit + 1,
    )
    items = [_out(row, [], None) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return Page(
        items=items, next_cursor=cursor_after(f"{last['created_at'].isoformat()}|{last['id']}") if last else None
    )


async def property_tickets(
    conn: asyncpg.Connection,
    caller: Caller,
    property_id: str,
    filters: dict[str, str | None],
    cursor: str | None,
    limit: int,
) -> Page[TicketOut]:
    """The property's tickets, newest first (its staff, supervisors and admins)."""
    await require_property(conn, caller, property_id)
    return await _page(
        conn, caller, property_ids=[property_id], owner=None, filters=filters, cursor=cursor, limit=limit
    )


async def my_tickets(
    conn: asyncpg.Connection, caller: Caller, filters: dict[str, str | None], cursor: str | None, limit: int
) -> Page[TicketOut]:
    """An owner's: their households' tickets and those they filed. Staff's: those assigned to them."""
    if caller.role == "owner":
        units = [row["id"] for row in await places_sql.owned_units(conn, caller.org_id, caller.user_id)]
        return await _page(
            conn, caller, property_ids=None, owner=(units, caller.user_id), filters=filters, cursor=cursor, limit=limit
        )
    visible = await visible_property_ids(conn, caller)
    return await _page(
        conn,
        caller,
        property_ids=visible,
        owner=None,
        filters=filters | {"responsible_id": caller.user_id},
        cursor=cursor,
        limit=limit,
    )
