"""The survey_campaign schedule kind's payload, its check, and what each occurrence makes: the campaign, open for
the occurrence's window, with an invitation per household."""

from __future__ import annotations

from typing import Annotated

import asyncpg
import msgspec
from msgspec import Meta

from core.errors import FieldError, Invalid
from core.schedules.kinds import Making
from core.schedules.materialise import announce
from core.schedules.models import Made, Schedule
from core.schedules.recurrence import zone_of
from core.structs import Id, Struct
from surveys.campaigns import create_campaign
from surveys.repository import templates as templates_sql
from surveys.schemas import CampaignCreate


class SurveyPayload(Struct):
    """What each occurrence of a survey_campaign schedule makes: a campaign of this survey template, open for the
    occurrence's duration, with an invitation per household."""

    template_id: Id
    anonymous: bool = False
    flag_below: Annotated[float, Meta(ge=1, le=5, description="dimensions scoring under this are flagged")] = 4.0


async def check_survey_payload(conn: asyncpg.Connection, org_id: str, property_id: str, payload: SurveyPayload) -> None:
    if await templates_sql.current_version(conn, org_id, payload.template_id) is None:
        raise Invalid(
            "the survey schedule's template is not valid",
            [FieldError(field="survey.template_id", message="no such survey template")],
        )


async def make_campaign(conn: asyncpg.Connection, schedule: Schedule, made: Made, making: Making) -> None:
    """Each occurrence's campaign (links are derived from the secret). An occurrence whose window closed while the
    workers were down, or a schedule without a survey, is only announced to the admins."""
    if schedule.payload and not made.missed:
        payload = msgspec.convert(schedule.payload, SurveyPayload)
        month = made.starts_at.astimezone(zone_of(schedule.timezone)).strftime("%Y-%m")
        data = CampaignCreate(
            template_id=payload.template_id,
            name_zh=f"{schedule.name}（{month}）",
            name_en=f"{schedule.name} ({month})",
            opens_at=made.starts_at,
            closes_at=made.ends_at,
            anonymous=payload.anonymous,
            flag_below=payload.flag_below,
        )
        await create_campaign(
            conn,
            None,
            schedule.property_id,
            data,
            secret=making.secret,
            now=making.now,
            org_id=schedule.org_id,
            occurrence_key=made.key(schedule.id),
        )
    await announce(conn, schedule, made, making)
