"""Wire shapes of the work on site: rounds and rectification orders (setup shapes are in schemas.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta

from core.structs import Frozen, Id, Instant, Text
from core.vocabulary import Category, Severity
from inspections.evidence.models import Flag
from inspections.models import Order, Round

Reason = Annotated[str, Meta(min_length=1, max_length=2000)]


class OrderOut(Order, frozen=True, kw_only=True):
    overdue: bool = False
    # a failed check's photos and the order's own "before" photos; "after" photos show the fix
    before_photo_ids: list[str] = []
    after_photo_ids: list[str] = []
    # what the evidence checks found in its photos (docs/evidence.md): shown to supervisors and admins only
    flags: list[Flag] = []


class ReviewItem(Frozen, frozen=True):
    order: OrderOut
    waiting_hours: float
    # false when the caller did the work (or is not a supervisor): someone else must verify it
    can_verify: bool


class OrderCreate(Frozen, frozen=True):
    description: Annotated[str, Meta(min_length=1, max_length=2000)]
    category: Category
    severity: Severity = "medium"
    location: Annotated[str, Meta(max_length=200)] | None = None
    checkpoint_id: Id | None = None
    responsible_id: Id | None = None
    # unset: the policy for its severity
    due_at: Instant | None = None


Seen = Annotated[
    Instant | None,
    Meta(
        description="the order's `submitted_at` as you saw it: the verdict is refused (409, code stale_order) if the "
        "order was given a verdict or submitted again since"
    ),
]


class VerifyBody(Frozen, frozen=True):
    seen: Seen = None


class RejectBody(Frozen, frozen=True):
    reason: Reason
    # a new deadline, when the first one no longer fits
    due_at: Instant | None = None
    seen: Seen = None


class NoteBody(Frozen, frozen=True):
    note: Text | None = None


class RoundCreate(Frozen, frozen=True):
    """A round assigned by a supervisor (schedules make the rest)."""

    template_id: Id
    assignee_id: Id
    route_id: Id | None = None
    window_start: Instant | None = None
    window_end: Instant | None = None


class Reassign(Frozen, frozen=True):
    assignee_id: Id


class VisitOut(Frozen, frozen=True):
    id: str
    checkpoint_id: str
    checked_by: str | None
    scanned_at: datetime | None
    expected_at: datetime | None
    timing: str | None


class ResultOut(Frozen, frozen=True):
    id: str
    visit_id: str | None
    checkpoint_id: str | None
    item_key: str
    result: str | None
    value_number: float | None
    value_text: str | None
    note: str | None
    outcome: str | None
    checked_by: str
    checked_at: datetime


class RoundDetail(Frozen, frozen=True):
    round: Round
    visits: list[VisitOut]
    results: list[ResultOut]
    # what the evidence checks found in its visits and photos: shown to supervisors and admins only
    flags: list[Flag] = []
