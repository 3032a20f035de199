"""What a survey_campaign schedule makes at each occurrence: the campaign, open for the occurrence's window, with
an invitation per household (core.schedules plugs this in as its Maker for the kind `survey_campaign`)."""

from __future__ import annotations

import asyncpg

from core.clock import Clock
from core.errors import FieldError, Invalid
from core.schedules.materialise import Made, Maker, announce, occurrence_key
from core.schedules.models import Schedule, SurveyPayload
from core.schedules.rules import zone_of
from surveys.campaigns import create_campaign
from surveys.repository import templates as templates_sql
from surveys.schemas import CampaignCreate


async def check_survey_payload(conn: asyncpg.Connection, org_id: str, property_id: str, payload: SurveyPayload) -> None:
    if await templates_sql.current_version(conn, org_id, payload.template_id) is None:
        raise Invalid(
            "the survey schedule's template is not valid",
            [FieldError(field="survey.template_id", message="no such survey template")],
        )


def campaign_maker(secret: str, clock: Clock) -> Maker:
    """A Maker making each occurrence's campaign (links are derived from `secret`). An occurrence whose window
    closed while the workers were down, or a schedule without a survey, is only announced to the admins."""

    async def make_campaign(conn: asyncpg.Connection, schedule: Schedule, made: Made) -> None:
        payload = schedule.survey_payload
        if payload is not None and not made.missed:
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
                secret=secret,
                now=clock.now(),
                org_id=schedule.org_id,
                occurrence_key=occurrence_key(schedule.id, made),
            )
        await announce(conn, schedule, made)

    return make_campaign
