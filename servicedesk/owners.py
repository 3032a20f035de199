"""What an owner's web pages need beside the REST use cases: their households (where they may file), the zones
their tickets' times are read in, a ticket's photos they may see, and filing a ticket with its photos in one go
(a browser's form carries both; a phone files the row and uploads the bytes over tus, separately). Access is the
REST use cases' (servicedesk/tickets.py): these add no rule of their own."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
import msgspec

from core.access import Caller
from core.errors import Invalid
from core.ids import new_id
from core.places import repository as places_sql
from core.places.households import Household, owner_households
from core.structs import Frozen
from servicedesk import tickets
from servicedesk.repository import owners as sql
from servicedesk.repository import tickets as tickets_sql
from servicedesk.schemas import TicketCreate, TicketOut
from sync.photos.ingest import NewPhoto, record_photos, upload_bytes
from sync.photos.uploads import Uploads


class TicketPhoto(Frozen, frozen=True):
    id: str
    purpose: str  # before | after
    status: str  # pending | uploaded | ready | rejected


class FormPhoto(msgspec.Struct, frozen=True, kw_only=True):
    data: bytes
    filename: str | None = None


async def households(conn: asyncpg.Connection, caller: Caller) -> list[Household]:
    """Where an owner may file: their own households (the kernel's list, as the owner's home shows them)."""
    return await owner_households(conn, caller)


async def zones(conn: asyncpg.Connection, caller: Caller, property_ids: Sequence[str]) -> dict[str, str]:
    """The time zone of each property (of tickets the caller was allowed to read)."""
    return await sql.zones(conn, caller.org_id, sorted(set(property_ids)))


async def ticket_photos(conn: asyncpg.Connection, caller: Caller, ticket: TicketOut) -> list[TicketPhoto]:
    """The before and after photos of a ticket the caller has read (ticket_out) that they may see."""
    units = [row["id"] for row in await places_sql.owned_units(conn, caller.org_id, caller.user_id)]
    rows = await sql.ticket_photos(conn, caller.org_id, ticket.id, caller.user_id, units)
    return [TicketPhoto(id=row["id"], purpose=row["purpose"], status=row["status"]) for row in rows]


async def file_with_photos(
    conn: asyncpg.Connection,
    uploads: Uploads,
    caller: Caller,
    property_id: str,
    data: TicketCreate,
    photos: Sequence[FormPhoto],
    now: datetime,
) -> tuple[TicketOut, bool]:
    """file_ticket, then the photos as its `before` photos, through the photo uploads' checks and storage. The
    same `id` again files nothing and adds no photo. A photo refused raises Invalid on `photos` (the caller rolls
    the filing back with it)."""
    ticket, fresh = await tickets.file_ticket(conn, caller, property_id, data, now)
    if not fresh or not photos:
        return ticket, fresh
    rows = [
        NewPhoto(id=new_id(), property_id=property_id, record_table="tickets", record_id=ticket.id, purpose="before")
        for _ in photos
    ]
    for number, (row, photo) in enumerate(zip(rows, photos, strict=True), start=1):
        try:
            await upload_bytes(uploads, caller, row, photo.data, photo.filename)
        except Invalid as refused:
            english, _, chinese = refused.detail.rpartition(" / ")
            raise tickets.Refused("photos", f"photo {number}: {english} / 第 {number} 张照片：{chinese}") from None
    await record_photos(conn, caller, rows)
    await tickets_sql.share_photos(conn, caller.org_id, [row.id for row in rows])
    return ticket, fresh
