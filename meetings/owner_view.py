"""What an owner reads of the owner meetings on their own pages, by the read rule of meetings/synced.py: the
meetings of their properties once noticed (cancelled ones too, with the reason), and the minutes and their
attachments once published; never a draft. An attachment is fetched through meetings.files.open_attachment,
which applies the same rule."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from core.access import Caller, require_role, visible_property_ids
from core.structs import Struct
from meetings import repository as sql
from meetings.schemas import AgendaItem, PublishedAttachment, Status


class OwnerMeeting(Struct):
    id: str
    property_id: str
    property_name: str
    timezone: str
    title_zh: str
    title_en: str
    starts_at: datetime
    ends_at: datetime
    location: str | None
    agenda: list[AgendaItem]
    status: Status
    noticed_at: datetime | None
    minutes_zh: str | None
    minutes_en: str | None
    minutes_published_at: datetime | None
    attachments: list[PublishedAttachment] | None
    cancelled_at: datetime | None
    cancel_reason: str | None


class OwnerMeetings(Struct):
    upcoming: list[OwnerMeeting]  # not over yet (cancelled ones included), soonest first
    minutes: list[OwnerMeeting]  # with published minutes, latest first


async def owner_meetings(conn: asyncpg.Connection, caller: Caller, now: datetime) -> OwnerMeetings:
    require_role(caller, "owner")
    properties = await visible_property_ids(conn, caller) or []
    meetings = [
        msgspec.convert(dict(row), OwnerMeeting) for row in await sql.owner_meetings(conn, caller.org_id, properties)
    ]
    return OwnerMeetings(
        upcoming=sorted(
            (m for m in meetings if m.ends_at > now and m.minutes_published_at is None), key=lambda m: m.starts_at
        ),
        minutes=[m for m in meetings if m.minutes_published_at is not None],
    )
