"""The shapes of inspection work: checklist items (a tagged union by `type`), templates, checkpoints, routes,
rounds and rectification orders. Wire-only shapes (Create / Update / Out) live in schemas.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta

from core.structs import Frozen, Id
from core.vocabulary import Category, Severity

Outcome = Literal["pass", "fail", "na"]
RoundStatus = Literal["planned", "in_progress", "completed", "missed"]
OrderStatus = Literal["open", "in_progress", "submitted", "verified"]
OrderSource = Literal["check", "report", "manual", "survey", "complaint"]
Timing = Literal["early", "on_time", "late", "missed"]

ItemKey = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,40}$", description="stable within a template")]
Label = Annotated[str, Meta(min_length=1, max_length=200)]
Standard = Annotated[str, Meta(max_length=500)]
Hours = Annotated[int, Meta(ge=1, le=24 * 90)]


class Option(Frozen, frozen=True):
    value: Annotated[str, Meta(min_length=1, max_length=100)]
    label_zh: Label
    label_en: Label
    fails: bool = False


class ItemBase(Frozen, frozen=True, tag_field="type"):
    """What every checklist item has. `standard_*` is the service standard it checks
    (公共区域每日清扫2次 / common areas cleaned twice a day)."""

    key: ItemKey
    label_zh: Label
    label_en: Label
    standard_zh: Standard = ""
    standard_en: Standard = ""
    required: bool = True
    photo_on_fail: bool = False
    severity: Severity = "medium"
    # hours a finding of this item has to be put right; unset: the policy by severity (rectification.DEADLINE_HOURS)
    rectify_hours: Hours | None = None


class PassFailItem(ItemBase, frozen=True, tag="pass_fail"):
    """Pass, fail or not applicable."""


class NumberItem(ItemBase, frozen=True, tag="number"):
    """A reading; outside [min, max] it fails."""

    min: float | None = None
    max: float | None = None
    unit: Annotated[str, Meta(max_length=20)] = ""


class ChoiceItem(ItemBase, frozen=True, kw_only=True, tag="choice"):
    """One of the options; options marked `fails` fail the item."""

    options: Annotated[list[Option], Meta(min_length=2, max_length=50)]


class TextItem(ItemBase, frozen=True, tag="text"):
    """A written answer; not judged."""


class PhotoItem(ItemBase, frozen=True, tag="photo"):
    """At least one photo attached to the result; not judged."""


class SignatureItem(ItemBase, frozen=True, tag="signature"):
    """A signature (value_text holds it, or the id of its photo); not judged."""


Item = PassFailItem | NumberItem | ChoiceItem | TextItem | PhotoItem | SignatureItem


class TemplateVersion(Frozen, frozen=True):
    id: Id
    template_id: Id
    version: int
    name_zh: str
    name_en: str
    category: Category
    items: list[Item]
    created_by: str | None
    created_at: datetime


class Template(Frozen, frozen=True):
    id: Id
    current_version: int
    archived: bool
    current: TemplateVersion
    created_at: datetime
    updated_at: datetime


class Stop(Frozen, frozen=True):
    checkpoint_id: Id
    # minutes after the previous stop (the first stop: after the round starts)
    minutes: Annotated[int, Meta(ge=0, le=24 * 60)] = 0


class Plan(Frozen, frozen=True):
    """A route as it was when a round was made."""

    tolerance_minutes: int
    stops: list[Stop]


class Round(Frozen, frozen=True):
    id: str
    property_id: str
    template_version_id: str
    route_id: str | None
    assignee_id: str
    status: RoundStatus
    window_start: datetime | None
    window_end: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    plan: Plan | None
    occurrence_key: str | None
    created_by: str | None
    created_at: datetime


class Order(Frozen, frozen=True):
    id: str
    property_id: str
    source: OrderSource
    check_id: str | None
    round_id: str | None
    checkpoint_id: str | None
    location: str | None
    category: Category
    description: str
    severity: Severity
    responsible_id: str | None
    reported_by: str
    status: OrderStatus
    # the deadline in force; original_due_at: the first one, kept when a send-back gives a later deadline
    # (lateness in the KPIs is judged against it)
    due_at: datetime | None
    original_due_at: datetime | None
    started_at: datetime | None
    # the latest submission (a fix sent back and done again is submitted again)
    submitted_at: datetime | None
    submitted_by: str | None
    verified_at: datetime | None
    verified_by: str | None
    reject_reason: str | None
    rejections: int
    resolution_note: str | None
    created_at: datetime
