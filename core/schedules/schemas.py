"""Input shapes for schedules."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from core.schedules.models import Kind, LocalStart, RoundPayload, SurveyPayload
from core.structs import Name, Struct

RuleBody = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=500,
        description="an RFC 5545 RRULE body, repeating in the property's time zone (DAILY at most)",
        examples=["FREQ=MONTHLY;INTERVAL=6"],
    ),
]
Minutes = Annotated[int, Meta(ge=1, le=366 * 24 * 60, description="how long each occurrence lasts")]


class ScheduleCreate(Struct):
    """rrule and duration_minutes default by kind for survey_campaign and owner_meeting; inspection_round and
    custom need both. payload is for inspection_round (and required there); survey is for survey_campaign: with
    it each occurrence makes the campaign, without it the admins are told one is due."""

    kind: Kind
    name: Name
    dtstart_local: LocalStart
    rrule: RuleBody | None = None
    duration_minutes: Minutes | None = None
    payload: RoundPayload | None = None
    survey: SurveyPayload | None = None
