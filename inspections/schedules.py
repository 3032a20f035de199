"""The inspection_round schedule kind's payload, and what each occurrence makes: a round for each assignee."""

from __future__ import annotations

from typing import Annotated

import asyncpg
import msgspec
from msgspec import Meta

from core.schedules.kinds import Making
from core.schedules.models import Made, Schedule
from core.structs import Id, Struct
from inspections.rounds import materialise_round

Assignees = Annotated[list[Id], Meta(min_length=1, max_length=50)]


class RoundPayload(Struct):
    """What each occurrence of an inspection_round schedule makes: a round of this checklist (and route) for
    each assignee."""

    template_id: Id
    assignee_ids: Assignees
    route_id: Id | None = None


async def make_rounds(conn: asyncpg.Connection, schedule: Schedule, made: Made, making: Making) -> None:
    payload = msgspec.convert(schedule.payload, RoundPayload)
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
            occurrence_key=f"{made.key(schedule.id)}:{assignee_id}",
            missed=made.missed,
        )
