"""The service desk on the wire: what a client sends to file a ticket or take a step, and what it gets back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import Meta

from core.structs import Frozen, Id, Instant, Latitude, Longitude, Name, Phone, Text
from core.vocabulary import Category
from servicedesk.models import Action, Channel, Kind, Status, VisitChannel, Which

Description = Annotated[str, Meta(min_length=1, max_length=4000)]
Minutes = Annotated[int, Meta(ge=1, le=60 * 24 * 90, description="minutes (at most 90 days)")]
Rating = Annotated[int, Meta(ge=1, le=5, description="1 非常不满意 very dissatisfied … 5 非常满意 very satisfied")]
PromiseCategory = Annotated[str, Meta(pattern=r"^([a-z]{1,20}|\*)$", description="a category, or * for any")]


class TicketCreate(Frozen, frozen=True):
    """The five W's: when it happened (`occurred_at`), where (a unit, a building, or a common area's `location`
    with optional GPS), who (the household; or a named caller and telephone), what (kind, category, description,
    photos afterwards against the ticket's id) and what the owner asks for (`request`). Give `id` to make a retry
    safe: the same id files one ticket."""

    kind: Kind
    category: Category
    description: Description
    id: Id | None = None
    request: Text | None = None
    unit_id: Id | None = None
    building_id: Id | None = None
    location: Text | None = None
    gps_lat: Latitude | None = None
    gps_lon: Longitude | None = None
    occurred_at: Instant | None = None
    channel: Channel | None = None
    caller_name: Name | None = None
    caller_phone: Phone | None = None


class StepIn(Frozen, frozen=True):
    """One step of a ticket's life (the same shape a phone pushes as a `ticket_events` row). What each needs:
    decline: note (the reason the owner reads), duplicate_of optional; assign: assignee_id (default: the property's
    person for the category); resolve: note (and, for a repair, an 'after' photo); dispute: note; visit: rating,
    comment in note, channel (owners: app or web; staff: phone or in_person); extend: which, due_at, note;
    note: note, public (false: staff only)."""

    action: Action
    # the step's own id (its timeline event's): the same id sent again takes no second step
    id: Id | None = None
    note: Annotated[str, Meta(max_length=4000)] | None = None
    rating: Rating | None = None
    assignee_id: Id | None = None
    duplicate_of: Id | None = None
    which: Which | None = None
    due_at: Instant | None = None
    channel: VisitChannel | None = None
    public: bool = True


class EventOut(Frozen, frozen=True):
    id: str
    created_at: datetime
    action: str
    body: str | None
    rating: int | None
    public: bool | None
    actor_id: str | None
    status_before: str | None
    status_after: str | None
    outcome: str
    refusal_en: str | None = None
    refusal_zh: str | None = None
    data: dict[str, Any] | None = None


class TicketOut(Frozen, frozen=True):
    """A ticket as the caller may see it. The promises: `respond_due_at` / `resolve_due_at` in force, and the first
    ones (`*_original`), against which lateness is judged. `allowed`: the steps the caller may take now.
    `timeline`: in a single ticket's answer; owners read its public events only."""

    id: str
    property_id: str
    kind: Kind
    category: Category
    channel: Channel
    unit_id: str | None
    building_id: str | None
    location: str | None
    gps_lat: float | None
    gps_lon: float | None
    reported_by: str
    caller_name: str | None
    caller_phone: str | None
    occurred_at: datetime | None
    description: str
    request: str | None
    status: Status
    decline_reason: str | None
    duplicate_of: str | None
    accepted_at: datetime | None
    responsible_id: str | None
    assigned_at: datetime | None
    respond_due_at: datetime | None
    respond_due_original: datetime | None
    resolve_due_at: datetime | None
    resolve_due_original: datetime | None
    responded_at: datetime | None
    resolved_at: datetime | None
    resolution_note: str | None
    confirmed_at: datetime | None
    confirmed_via: str | None
    reopens: int
    visit_due_at: datetime | None
    visited_at: datetime | None
    visit_channel: str | None
    visit_rating: int | None
    visit_comment: str | None
    closed_at: datetime | None
    created_at: datetime
    received_at: datetime
    allowed: list[Action] = []
    timeline: list[EventOut] | None = None


class PromiseSet(Frozen, frozen=True):
    respond_minutes: Minutes
    resolve_minutes: Minutes


class PromiseOut(Frozen, frozen=True):
    """`source`: set for this property (`property`), or the practice's default (`default`)."""

    kind: Kind
    category: str
    respond_minutes: int
    resolve_minutes: int
    source: str
    updated_by: str | None = None
    updated_at: datetime | None = None


class AssigneeSet(Frozen, frozen=True):
    user_id: Id


class AssigneeOut(Frozen, frozen=True):
    category: Category
    user_id: str
