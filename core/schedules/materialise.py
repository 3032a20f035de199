"""Materialising schedules: each occurrence up to a horizon is recorded once (its key is the schedule and its
start, unique in schedule_occurrences), and what it makes is made by the transaction that recorded it, so
several workers ticking at once, or a tick run twice, make everything once.

Horizons: rounds and custom occurrences a fixed number of days ahead (FIELDWORK_SCHEDULE_HORIZON_DAYS);
survey campaigns and owner meetings up to the next one. After downtime, what was skipped is caught up:
an occurrence whose window is still open is made as usual; one whose window closed is recorded as missed (and
made as missed: a round nobody could walk counts against the completion rate), never dropped.

What an occurrence makes depends on its kind (core.schedules.kinds) and belongs to the package that declares
the kind; the kernel's own kind, `custom`, announces each occurrence.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

import asyncpg
import msgspec

from core.notifications.service import notify
from core.people import repository as people_sql
from core.schedules import service
from core.schedules.kinds import Making, ScheduleKind
from core.schedules.models import Made, Schedule
from core.schedules.recurrence import occurrences, zone_of

log = logging.getLogger("fieldwork.schedules")

# how far to look for the next one of a kind made only up to its next occurrence
NEXT_LOOKAHEAD = timedelta(days=800)


# a schedule is looked at again once its horizon has moved this far (expanding an RRULE walks it from its start)
REFRESH = timedelta(days=1)


async def due(conn: asyncpg.Connection, now: datetime, horizon: timedelta) -> list[Schedule]:
    """The schedules a tick at `now` should materialise: those whose horizon has moved REFRESH past them."""
    return await service.due_schedules(conn, now, horizon=max(horizon - REFRESH, timedelta(0)))


class Tally(msgspec.Struct, kw_only=True):
    created: int = 0
    missed: int = 0


def starts_to_make(
    schedule: Schedule, kind: ScheduleKind, now: datetime, horizon: timedelta
) -> tuple[list[datetime], datetime]:
    """The occurrence starts to record now, and how far the schedule is then materialised."""
    duration = timedelta(minutes=schedule.duration_minutes)
    # from where the last tick stopped; a new schedule from its creation (what ended before it is not missed)
    after = schedule.materialised_until or schedule.created_at - duration
    if kind.ahead == "horizon":
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
    conn: asyncpg.Connection,
    schedule: Schedule,
    now: datetime,
    horizon: timedelta,
    kinds: Mapping[str, ScheduleKind],
    secret: str,
) -> Tally:
    """Record (and make) the schedule's occurrences that are due; call in its own transaction. A schedule of a
    kind no longer registered (its plug-in taken out) is left as it is, and said so."""
    tally = Tally()
    kind = kinds.get(schedule.kind)
    if kind is None:
        log.warning("schedule %s is of kind %s, which no plug-in declares: left alone", schedule.id, schedule.kind)
        return tally
    starts, until = starts_to_make(schedule, kind, now, horizon)
    duration = timedelta(minutes=schedule.duration_minutes)
    making = Making(now=now, secret=secret, kind=kind)
    made = [Made(starts_at=start, ends_at=start + duration, missed=start + duration <= now) for start in starts]
    mine = await service.record_occurrences(
        conn, schedule.org_id, schedule.id, [(m.starts_at, m.ends_at, m.missed) for m in made]
    )
    for occurrence in made:
        if occurrence.starts_at not in mine:
            continue  # recorded before: by another worker, or an earlier tick
        await kind.make(conn, schedule, occurrence, making)
        if occurrence.missed:
            tally.missed += 1
        else:
            tally.created += 1
    await service.mark_materialised(conn, schedule.org_id, schedule.id, until)
    return tally


async def announce(conn: asyncpg.Connection, schedule: Schedule, made: Made, making: Making) -> None:
    """Tell the org's admins and the property's supervisors an occurrence is due (or was missed)."""
    recipients = sorted(
        {
            *await people_sql.admins_of(conn, schedule.org_id),
            *await people_sql.supervisors_of(conn, schedule.org_id, schedule.property_id),
        }
    )
    local = made.starts_at.astimezone(zone_of(schedule.timezone)).strftime("%Y-%m-%d %H:%M")
    zh, en = making.kind.title_zh, making.kind.title_en
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


CUSTOM = ScheduleKind(
    name="custom",
    summary="each occurrence is announced to the org's admins and the property's supervisors",
    make=announce,
)
