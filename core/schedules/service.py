"""Use cases for schedules. Admins create, pause and resume them; supervisors of the property read them. Each
runs inside the caller's transaction.

The functions at the end (due_schedules … mark_materialised) serve the worker that materialises occurrences:
no caller, no access checks, any org."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import asyncpg
import msgspec

from core.access import Caller, found_in_scope, require_property
from core.audit.service import record_change
from core.errors import FieldError, Invalid, NotFound
from core.ids import new_id
from core.places import repository as places_sql
from core.schedules import recurrence
from core.schedules import repository as sql
from core.schedules.kinds import ScheduleKind
from core.schedules.models import Occurrence, Schedule
from core.schedules.schemas import ScheduleBase
from core.structs import Page, page_of


def schedule_of(row: asyncpg.Record) -> Schedule:
    return msgspec.convert(dict(row), Schedule)


def _missing(schedule_id: str) -> NotFound:
    return NotFound(f"schedule {schedule_id} not found", entity="schedule", id=schedule_id)


async def _timezone(conn: asyncpg.Connection, org_id: str, property_id: str) -> str:
    row = await places_sql.get_property(conn, org_id, property_id)
    assert row is not None, "the property was checked by require_property"
    timezone: str = row["timezone"]
    return timezone


async def create_schedule(
    conn: asyncpg.Connection,
    caller: Caller,
    property_id: str,
    data: ScheduleBase,
    now: datetime,
    *,
    kinds: Mapping[str, ScheduleKind],
) -> Schedule:
    """A schedule of the property, made at `now` (the injected clock's, so occurrences are made from then on).
    `data` has the shape create_shape(kinds) made; without a rule or duration a kind's defaults apply, and the
    kind's check looks at its payload once the rest is valid."""
    await require_property(conn, caller, property_id, "admin")
    kind = kinds[data.kind]  # the shape's `kind` is one of them
    rrule = data.rrule or kind.default_rrule
    minutes = data.duration_minutes or kind.default_minutes
    errors: list[FieldError] = []
    if rrule is None:
        errors.append(FieldError(field="rrule", message=f"a {kind.name} schedule needs a recurrence rule"))
    else:
        timezone = await _timezone(conn, caller.org_id, property_id)
        try:
            # a rule with no occurrence scans to the year 9999 once before it is refused: off the event loop
            rrule = await asyncio.to_thread(recurrence.check, rrule, data.dtstart_local, timezone)
        except Invalid as exc:
            errors += exc.errors
    if minutes is None:
        errors.append(FieldError(field="duration_minutes", message=f"a {kind.name} schedule needs a duration"))
    payload, payload_errors = _payload_of(data, kind, kinds)
    errors += payload_errors
    if errors:
        raise Invalid("the schedule is not valid", errors)
    assert rrule is not None and minutes is not None
    if payload is not None and kind.check is not None:
        await kind.check(conn, caller.org_id, property_id, payload)
    schedule_id = new_id()
    await sql.insert_schedule(
        conn,
        caller.org_id,
        schedule_id,
        property_id,
        kind.name,
        data.name,
        rrule,
        data.dtstart_local,
        minutes,
        {} if payload is None else msgspec.to_builtins(payload),
        caller.user_id,
        now,
    )
    schedule = await get_schedule(conn, caller, schedule_id)
    await record_change(conn, caller, "create", "schedule", schedule_id, after=schedule)
    return schedule


def _payload_of(
    data: ScheduleBase, kind: ScheduleKind, kinds: Mapping[str, ScheduleKind]
) -> tuple[msgspec.Struct | None, list[FieldError]]:
    """The kind's payload as its Struct, and what is wrong: a payload field of another kind given, the kind's own
    missing while it is required, or (a field several kinds share) not the kind's shape."""
    errors = []
    for field in sorted({k.payload_field for k in kinds.values() if k.payload is not None}):
        if getattr(data, field, None) is None or (field == kind.payload_field and kind.payload is not None):
            continue
        takers = sorted(k.name for k in kinds.values() if k.payload is not None and k.payload_field == field)
        errors.append(FieldError(field=field, message=f"only {' and '.join(takers)} schedules take a {field}"))
    if kind.payload is None:
        return None, errors
    given = getattr(data, kind.payload_field, None)
    if given is None:
        if kind.payload_required:
            errors.append(FieldError(field=kind.payload_field, message=kind.payload_hint))
        return None, errors
    try:
        return msgspec.convert(msgspec.to_builtins(given), kind.payload), errors
    except msgspec.ValidationError as exc:
        return None, [*errors, FieldError(field=kind.payload_field, message=str(exc))]


async def get_schedule(conn: asyncpg.Connection, caller: Caller, schedule_id: str) -> Schedule:
    row = await sql.get_schedule(conn, caller.org_id, schedule_id)
    return schedule_of(await found_in_scope(conn, caller, row, _missing(schedule_id), "supervise"))


async def list_schedules(
    conn: asyncpg.Connection, caller: Caller, property_id: str, cursor: str | None, limit: int
) -> Page[Schedule]:
    await require_property(conn, caller, property_id, "supervise")
    rows = await sql.list_schedules(conn, caller.org_id, property_id, cursor, limit + 1)
    return page_of([schedule_of(r) for r in rows], limit)


async def pause(conn: asyncpg.Connection, caller: Caller, schedule_id: str) -> Schedule:
    """Stop making occurrences; pausing a paused schedule changes nothing."""
    before = await get_schedule(conn, caller, schedule_id)
    await require_property(conn, caller, before.property_id, "admin")
    if before.paused:
        return before
    await sql.update_schedule(conn, caller.org_id, schedule_id, {"paused": True})
    after = await get_schedule(conn, caller, schedule_id)
    await record_change(conn, caller, "pause", "schedule", schedule_id, before=before, after=after)
    return after


async def resume(conn: asyncpg.Connection, caller: Caller, schedule_id: str, now: datetime) -> Schedule:
    """Make occurrences again from `now` on: those that fell in the pause are skipped, not made late."""
    before = await get_schedule(conn, caller, schedule_id)
    await require_property(conn, caller, before.property_id, "admin")
    if not before.paused:
        return before
    await sql.update_schedule(conn, caller.org_id, schedule_id, {"paused": False})
    await sql.advance_materialised(conn, caller.org_id, schedule_id, now)
    after = await get_schedule(conn, caller, schedule_id)
    await record_change(conn, caller, "resume", "schedule", schedule_id, before=before, after=after)
    return after


def occurrence_of(schedule: Schedule, starts_at: datetime) -> Occurrence:
    zone = recurrence.zone_of(schedule.timezone)
    return Occurrence(
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=schedule.duration_minutes),
        local_start=starts_at.astimezone(zone).isoformat(),
    )


async def preview(
    conn: asyncpg.Connection, caller: Caller, schedule_id: str, count: int, now: datetime
) -> list[Occurrence]:
    """The next `count` occurrences starting at or after `now` (a paused schedule shows what resuming gives)."""
    schedule = await get_schedule(conn, caller, schedule_id)
    starts = recurrence.upcoming(schedule.rrule, schedule.dtstart_local, schedule.timezone, now, count)
    return [occurrence_of(schedule, at) for at in starts]


CALENDAR_DAYS = 62  # the longest range calendar() expands: two months


async def calendar(
    conn: asyncpg.Connection, caller: Caller, schedule_id: str, after: datetime, before: datetime
) -> tuple[Schedule, list[Occurrence]]:
    """The schedule and its occurrences starting in [after, before) (at most CALENDAR_DAYS long), as the worker
    would make them (a paused schedule shows what resuming gives): the console's calendar of what is coming."""
    if before - after > timedelta(days=CALENDAR_DAYS):
        raise Invalid(
            f"a calendar covers {CALENDAR_DAYS} days at most / 日历最多显示 {CALENDAR_DAYS} 天",
            [FieldError(field="before", message=f"at most {CALENDAR_DAYS} days after `after`")],
        )
    schedule = await get_schedule(conn, caller, schedule_id)
    starts = recurrence.occurrences(schedule.rrule, schedule.dtstart_local, schedule.timezone, after, before)
    return schedule, [occurrence_of(schedule, at) for at in starts]


# For the worker: no caller, no access checks, any org.


async def due_schedules(
    conn: asyncpg.Connection, now: datetime, *, horizon: timedelta = timedelta(0)
) -> list[Schedule]:
    """Active (not paused) schedules of every org not yet materialised up to now + horizon, the furthest behind
    (never materialised) first."""
    return [schedule_of(r) for r in await sql.due_schedules(conn, now + horizon)]


async def mark_materialised(conn: asyncpg.Connection, org_id: str, schedule_id: str, until: datetime) -> None:
    """Occurrences before `until` are done; materialised_until only moves forward."""
    await sql.advance_materialised(conn, org_id, schedule_id, until)


async def record_occurrences(
    conn: asyncpg.Connection, org_id: str, schedule_id: str, occurrences: Sequence[tuple[datetime, datetime, bool]]
) -> set[datetime]:
    """Claim many occurrences ((start, end, missed) each) at once; returns the starts this call recorded (make
    those now; the others were recorded before, by another worker or an earlier run)."""
    if not occurrences:
        return set()
    return await sql.insert_occurrences(
        conn,
        org_id,
        schedule_id,
        [start for start, _, _ in occurrences],
        [end for _, end, _ in occurrences],
        ["missed" if missed else "created" for _, _, missed in occurrences],
    )


async def backlog(conn: asyncpg.Connection, now: datetime) -> dict[str, int]:
    """For `fieldwork jobs`: schedules active, and behind (their horizon already passed: no worker ticking)."""
    row = await sql.backlog(conn, now)
    return {"active": int(row["active"]), "behind": int(row["behind"])}
