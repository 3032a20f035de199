"""Schedules and their occurrences. These are also the shapes the API returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from core.structs import Id, Struct

Kind = Literal["inspection_round", "survey_campaign", "owner_meeting", "custom"]
OccurrenceStatus = Literal["created", "missed"]

# kind -> (rule, duration in minutes) when the admin gives none: a campaign every six months open for two
# weeks, an owner meeting every quarter lasting two hours
KIND_DEFAULTS: dict[str, tuple[str, int]] = {
    "survey_campaign": ("FREQ=MONTHLY;INTERVAL=6", 14 * 24 * 60),
    "owner_meeting": ("FREQ=MONTHLY;INTERVAL=3", 120),
}

Assignees = Annotated[list[Id], Meta(min_length=1, max_length=50)]
_LOCAL = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"
# A wall time in the property's zone, without an offset: RFC 3339's date-time (OpenAPI's "format": "date-time")
# requires one, so the schema says what it is instead.
LocalStart = Annotated[
    datetime,
    Meta(
        tz=False,
        description="the first occurrence, in the property's local time (no offset)",
        examples=["2026-12-01T09:00:00"],
        # Litestar's OpenAPI reads "extra"; msgspec's own JSON schema the rest
        extra_json_schema={
            "format": "local-date-time",
            "pattern": _LOCAL,
            "extra": {"format": "local-date-time", "pattern": _LOCAL},
        },
    ),
]


class RoundPayload(Struct):
    """What each occurrence of an inspection_round schedule makes: a round of this checklist (and route) for
    each assignee."""

    template_id: Id
    assignee_ids: Assignees
    route_id: Id | None = None


class SurveyPayload(Struct):
    """What each occurrence of a survey_campaign schedule makes: a campaign of this survey template, open for the
    occurrence's duration, with an invitation per household."""

    template_id: Id
    anonymous: bool = False
    flag_below: Annotated[float, Meta(ge=1, le=5, description="dimensions scoring under this are flagged")] = 4.0


class Schedule(Struct):
    org_id: str
    id: str
    property_id: str
    kind: Kind
    name: str
    rrule: str
    dtstart_local: LocalStart  # wall time in `timezone`
    timezone: str  # the property's, read with the schedule
    duration_minutes: int
    payload: dict[str, Any]  # a RoundPayload for inspection_round, a SurveyPayload for survey_campaign, else {}
    paused: bool
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    materialised_until: datetime | None

    @property
    def round_payload(self) -> RoundPayload | None:
        if self.kind != "inspection_round":
            return None
        return msgspec.convert(self.payload, RoundPayload)

    @property
    def survey_payload(self) -> SurveyPayload | None:
        if self.kind != "survey_campaign" or not self.payload:
            return None
        return msgspec.convert(self.payload, SurveyPayload)


class Occurrence(Struct):
    starts_at: datetime
    ends_at: datetime
    local_start: str  # ISO 8601 with the offset, in the property's time zone
