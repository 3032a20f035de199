"""What an inspection-round schedule makes at each occurrence: a round for each assignee (core.schedules plugs
this in as its Maker for the kind `inspection_round`)."""

from __future__ import annotations

import asyncpg

from core.schedules.materialise import Made, occurrence_key
from core.schedules.models import Schedule
from inspections.rounds import materialise_round


async def make_rounds(conn: asyncpg.Connection, schedule: Schedule, made: Made) -> None:
    payload = schedule.round_payload
    assert payload is not None
    for assignee_id in payload.assignee_ids:
        await materialise_round(
            conn,
            schedule.org_id,
            schedule.property_id,
            template_id=payload.template_id,
            route_id=payload.route_id,
            assignee_id=assignee_id,
            starts_at=made.starts_at,
            ends_at=made.ends_at,
            occurrence_key=f"{occurrence_key(schedule.id, made)}:{assignee_id}",
            missed=made.missed,
        )
