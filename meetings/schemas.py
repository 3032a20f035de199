"""Shapes of owner meetings: Create / Update-with-UNSET / the minutes draft / attendance in, and what staff get
back. Owners read meetings through sync (the owner_meetings table), never through these."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from core.structs import Id, Instant, Name, Struct, Text

Status = Literal["planned", "noticed", "held", "cancelled"]
MinutesText = Annotated[str, Meta(max_length=100_000)]


class AgendaItem(Struct):
    title_zh: Name
    title_en: Name
    note: Text | None = None


Agenda = Annotated[list[AgendaItem], Meta(max_length=100)]


class MeetingCreate(Struct):
    title_zh: Name
    title_en: Name
    starts_at: Instant
    ends_at: Instant
    location: Name | None = None
    agenda: Agenda = []


class MeetingUpdate(Struct):
    """What is left out stays as it is. A change once the notice is out notifies the owners again."""

    title_zh: Name | UnsetType = UNSET
    title_en: Name | UnsetType = UNSET
    starts_at: Instant | UnsetType = UNSET
    ends_at: Instant | UnsetType = UNSET
    location: Name | UnsetType | None = UNSET
    agenda: Agenda | UnsetType = UNSET


class MinutesDraft(Struct):
    """The minutes as staff write them; owners see them only once published."""

    minutes_zh: MinutesText
    minutes_en: MinutesText


class MeetingCancel(Struct):
    """Why the meeting is off: owners who had the notice read it."""

    reason: Annotated[str, Meta(min_length=1, max_length=2000)]


class PublishedAttachment(Struct):
    """An attachment as owners see it (the synced `attachments` column)."""

    id: str
    filename: str
    content_type: str
    size_bytes: int


class Attachment(PublishedAttachment):
    """An attachment as staff see it."""

    sha256: str
    uploaded_by: str | None
    created_at: datetime


class Meeting(Struct):
    id: str
    property_id: str
    quarter: str
    title_zh: str
    title_en: str
    starts_at: datetime
    ends_at: datetime
    location: str | None
    agenda: list[AgendaItem]
    status: Status
    noticed_at: datetime | None
    minutes_draft_zh: str | None
    minutes_draft_en: str | None
    minutes_zh: str | None
    minutes_en: str | None
    minutes_published_at: datetime | None
    attachments: list[PublishedAttachment] | None  # as published
    draft_attachments: list[Attachment]  # every upload, published or not yet
    cancelled_at: datetime | None
    cancel_reason: str | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class AttendanceEntry(Struct):
    unit_id: Id
    present: bool
    proxy_name: Name | None = None  # 委托代理人: who came for the household


class AttendanceIn(Struct):
    """The meeting's whole attendance: households left out have none recorded."""

    units: Annotated[list[AttendanceEntry], Meta(max_length=10_000)]


class AttendanceRow(Struct):
    unit_id: str
    present: bool
    proxy_name: str | None
    recorded_by: str | None
    recorded_at: datetime


class Attendance(Struct):
    meeting_id: str
    units: list[AttendanceRow]
    invited: int  # households (units) of the property
    present: int  # households present, in person or by proxy
    by_proxy: int
    rate: float | None  # present / invited
