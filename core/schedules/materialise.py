"""Materialising schedules: each occurrence up to a horizon is recorded once (its key is the schedule and its
start, unique in schedule_occurrences), and what it makes is made by the transaction that recorded it, so
several workers ticking at once, or a tick run twice, make everything once.

Horizons: rounds and custom occurrences a fixed number of days ahead (FIELDWORK_SCHEDULE_HORIZON_DAYS);
survey campaigns and owner meetings up to the next one. After downtime, what was skipped is caught up:
an occurrence whose window is still open is made as usual; one whose window closed is recorded as missed (and
made as missed: a round nobody could walk counts against the completion rate), never dropped.

What an occurrence makes depends on its kind and belongs to the domain packages: they plug a Maker in (the
worker composes them). A kind without one is only recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

import asyncpg
import msgspec

from core.notifications.service import notify
from core.people import repository as people_sql
from core.schedules import service
from core.schedules.models import Schedule
from core.schedules.rules import occurrences, zone_of

log = logging.getLogger("fieldwork.schedules")

# kinds materialised only up to their next occurrence (there is one every three or six months)
NEXT_ONLY = frozenset({"survey_campaign", "owner_meeting"})
# how far to look for the next one
NEXT_LOOKAHEAD = timedelta(days=800)


# a schedule is looked at again once its horizon has moved this far (expanding an RRULE walks it from its start)
REFRESH = timedelta(days=1)


async def due(conn: asyncpg.Connection, now: datetime, horizon: timedelta) -> list[Schedule]:
    """The schedules a tick at `now` should materialise: those whose horizon has moved REFRESH past them."""
    return await service.due_schedules(conn, now, horizon=max(horizon - REFRESH, timedelta(0)))


class Made(msgspec.Struct, frozen=True, kw_only=True):
    """One occurrence, as a Maker gets it."""

    starts_at: datetime
    ends_at: datetime
    missed: bool


def occurrence_key(schedule_id: str, made: Made) -> str:
    """What an occurrence made is keyed by: a record made twice for it is made once."""
    return f"{schedule_id}:{made.starts_at:%Y%m%dT%H%M%SZ}"


Maker = Callable[[asyncpg.Connection, Schedule, Made], Awaitable[None]]


class Tally(msgspec.Struct, kw_only=True):
    created: int = 0
    missed: int = 0


def starts_to_make(schedule: Schedule, now: datetime, horizon: timedelta) -> tuple[list[datetime], datetime]:
    """The occurrence starts to record now, and how far the schedule is then materialised."""
    duration = timedelta(minutes=schedule.duration_minutes)
    # from where the last tick stopped; a new schedule from its creation (what ended before it is not missed)
    after = schedule.materialised_until or schedule.created_at - duration
    if schedule.kind not in NEXT_ONLY:
        until = now + horizon
        return occurrences(schedule.rrule, schedule.dtstart_local, schedule.timezone, after, until), until
    if schedule.materialised_until is not None and schedule.materialised_until > now:
        return [], schedule.materialised_until  # the next one is made already and has not started yet
    starts = []
    for start in occurrences(schedule.rrule, schedule.dtstart_local, schedule.timezone, after, now + NEXT_LOOKAHEAD):
        starts.append(start)
        if start > now:
            return starts, start + timedelta(microseconds=1)
    return starts, now


async def materialise(
    conn: asyncpg.Connection, schedule: Schedule, now: datetime, horizon: timedelta, makers: Mapping[str, Maker]
) -> Tally:
    """Record (and make) the schedule's occurrences that are due; call in its own transaction."""
    tally = Tally()
    starts, until = starts_to_make(schedule, now, horizon)
    duration = timedelta(minutes=schedule.duration_minutes)
    maker = makers.get(schedule.kind)
    made = [Made(starts_at=start, ends_at=start + duration, missed=start + duration <= now) for start in starts]
    mine = await service.record_occurrences(
        conn, schedule.org_id, schedule.id, [(m.starts_at, m.ends_at, m.missed) for m in made]
    )
    for occurrence in made:
        if occurrence.starts_at not in mine:
            continue  # recorded before: by another worker, or an earlier tick
        if maker is not None:
            await maker(conn, schedule, occurrence)
        if occurrence.missed:
            tally.missed += 1
        else:
            tally.created += 1
    await service.mark_materialised(conn, schedule.org_id, schedule.id, until)
    return tally


TITLES = {
    "survey_campaign": ("满意度调查（{name}）：{date} 开始", "Satisfaction survey ({name}) starts {date}"),
    "owner_meeting": ("业主会议（{name}）：{date}", "Owner meeting ({name}): {date}"),
    "custom": ("计划事项（{name}）：{date}", "Scheduled: {name}, {date}"),
}


async def announce(conn: asyncpg.Connection, schedule: Schedule, made: Made) -> None:
    """Tell the org's admins and the property's supervisors an occurrence is due (or was missed)."""
    recipients = sorted(
        {
            *await people_sql.admins_of(conn, schedule.org_id),
            *await people_sql.supervisors_of(conn, schedule.org_id, schedule.property_id),
        }
    )
    local = made.starts_at.astimezone(zone_of(schedule.timezone)).strftime("%Y-%m-%d %H:%M")
    zh, en = TITLES.get(schedule.kind, TITLES["custom"])
    if made.missed:
        zh, en = "已错过 " + zh, "Missed: " + en
    await notify(
        conn,
        org_id=schedule.org_id,
        dedupe_key=f"schedule:{schedule.id}:{made.starts_at.isoformat()}",
        kind=f"schedule.{schedule.kind}",
        recipients=recipients,
        title_zh=zh.format(name=schedule.name, date=local),
        title_en=en.format(name=schedule.name, date=local),
        property_id=schedule.property_id,
        data={"schedule_id": schedule.id, "starts_at": made.starts_at.isoformat(), "missed": made.missed},
    )
