"""Owner meetings (业主会议): one per property per quarter, made by hand or by a schedule's occurrence.

planned -> noticed (the property's owners are told, and see the meeting through sync from then on) -> held (the
minutes are published: owners read them and fetch their attachments); planned or noticed -> cancelled (owners who
were told of it are told it is off). Staff of the property read everything, drafts included; its supervisors
record attendance (meetings.attendance), write the minutes, attach files (meetings.files) and cancel; admins do
the rest. The reminders before a meeting are meetings.reminders'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from core.access import Caller, Level, found_in_scope, require_property, require_role
from core.audit.service import record, record_change
from core.db import changes_of, unique_or_conflict
from core.errors import Conflict, FieldError, Invalid, NotFound
from core.ids import new_id
from core.notifications.service import notify
from core.people import repository as people_sql
from core.places import repository as places_sql
from core.schedules.kinds import Making
from core.schedules.materialise import announce
from core.schedules.models import Made, Schedule
from core.schedules.recurrence import zone_of
from core.structs import Page, page_of
from meetings import repository as sql
from meetings.schemas import Meeting, MeetingCancel, MeetingCreate, MeetingUpdate, MinutesDraft, PublishedAttachment

# kind -> the notice's title (zh, en) and body (zh, en)
NOTICES = {
    "meeting.notice": (
        ("业主会议通知：{title_zh}", "Owner meeting: {title_en}"),
        ("时间：{when}；地点：{where_zh}", "When: {when}. Where: {where_en}."),
    ),
    "meeting.updated": (
        ("业主会议变更：{title_zh}", "Owner meeting changed: {title_en}"),
        ("现定于 {when}；地点：{where_zh}", "Now {when}. Where: {where_en}."),
    ),
    "meeting.reminder": (
        ("业主会议明天举行：{title_zh}", "Owner meeting tomorrow: {title_en}"),
        ("时间：{when}；地点：{where_zh}", "When: {when}. Where: {where_en}."),
    ),
    "meeting.cancelled": (
        ("业主会议取消：{title_zh}", "Owner meeting cancelled: {title_en}"),
        ("原定 {when} 的会议取消。原因：{cancel_reason}", "The meeting of {when} is off. Why: {cancel_reason}"),
    ),
    "meeting.minutes": (
        ("业主会议纪要已发布：{title_zh}", "Owner meeting minutes: {title_en}"),
        (
            "{when} 会议的纪要已发布，请在App中查看。",
            "The minutes of the meeting of {when} are out; read them in the app.",
        ),
    ),
}


def quarter_of(moment: datetime, timezone: str) -> str:
    """'2027Q1': the quarter of `moment` in the property's time zone."""
    local = moment.astimezone(zone_of(timezone))
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def meeting_of(row: asyncpg.Record) -> Meeting:
    return msgspec.convert(dict(row), Meeting)


def _missing(meeting_id: str) -> NotFound:
    return NotFound(f"meeting {meeting_id} not found", entity="meeting", id=meeting_id)


async def found_meeting(
    conn: asyncpg.Connection, caller: Caller, meeting_id: str, level: Level = "read", *, lock: bool = False
) -> asyncpg.Record:
    """The meeting, if the caller may act on it at `level`; owners read meetings through sync, not here."""
    row = await found_in_scope(
        conn, caller, await sql.meeting(conn, caller.org_id, meeting_id, lock=lock), _missing(meeting_id), level
    )
    require_role(caller, "admin", "supervisor", "staff")
    return row


# what may be done to a meeting, in which states (a 409 names the actions its state allows)
ACTIONS: dict[str, tuple[str, ...]] = {
    "update": ("planned", "noticed"),
    "notice": ("planned",),
    "attendance": ("noticed", "held"),
    "minutes": ("planned", "noticed", "held"),
    "attachments": ("planned", "noticed", "held"),
    "publish": ("noticed", "held"),
    "cancel": ("planned", "noticed"),
}


def refuse_unless(row: asyncpg.Record, action: str) -> None:
    """409 unless the meeting's state allows `action`, naming what it does allow."""
    state = row["status"]
    if state in ACTIONS[action]:
        return
    allowed = [name for name, states in ACTIONS.items() if state in states]
    if state == "planned":
        message, code = "send the meeting's notice first", "not_noticed"
    elif state == "cancelled":
        message, code = "the meeting is cancelled / 会议已取消", "meeting_cancelled"
    else:
        message, code = f"the meeting is {state}", f"meeting_{state}"
    raise Conflict(message, code=code, state=state, action=action, allowed=allowed)


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise Invalid("the meeting must end after it starts", [FieldError(field="ends_at", message="after starts_at")])


async def tell_owners(conn: asyncpg.Connection, org_id: str, row: asyncpg.Record, kind: str, dedupe_key: str) -> bool:
    """The property's owners, of the meeting (NOTICES[kind]); False when this dedupe key was sent already."""
    zone = zone_of(await places_sql.property_timezone(conn, org_id, row["property_id"]))
    start, end = row["starts_at"].astimezone(zone), row["ends_at"].astimezone(zone)
    when = (
        f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
        if start.date() == end.date()
        else f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M}"
    )
    values = {
        **dict(row),
        "when": when,
        "where_zh": row["location"] or "另行通知",
        "where_en": row["location"] or "to follow",
    }
    (title_zh, title_en), (body_zh, body_en) = NOTICES[kind]
    return await notify(
        conn,
        org_id=org_id,
        dedupe_key=dedupe_key,
        kind=kind,
        recipients=await people_sql.owners_of_property(conn, org_id, row["property_id"]),
        title_zh=title_zh.format(**values),
        title_en=title_en.format(**values),
        body_zh=body_zh.format(**values),
        body_en=body_en.format(**values),
        property_id=row["property_id"],
        record_table="owner_meetings",
        record_id=row["id"],
        data={"meeting_id": row["id"], "starts_at": row["starts_at"].isoformat()},
    )


# --- making meetings ----------------------------------------------------------------------------------------


async def create_meeting(conn: asyncpg.Connection, caller: Caller, property_id: str, data: MeetingCreate) -> Meeting:
    """A meeting made by hand (admins); 409 when the property has one that quarter."""
    await require_property(conn, caller, property_id, "admin")
    _check_times(data.starts_at, data.ends_at)
    quarter = quarter_of(data.starts_at, await places_sql.property_timezone(conn, caller.org_id, property_id))
    meeting_id = new_id()
    values = {
        "id": meeting_id,
        "property_id": property_id,
        "quarter": quarter,
        "title_zh": data.title_zh,
        "title_en": data.title_en,
        "starts_at": data.starts_at,
        "ends_at": data.ends_at,
        "location": data.location,
        "agenda": msgspec.to_builtins(data.agenda),
        "created_by": caller.user_id,
    }
    if not await sql.insert_meeting(conn, caller.org_id, values):
        raise Conflict(
            f"the property has an owner meeting in {quarter} already (one per quarter)",
            code="meeting_exists",
            quarter=quarter,
            field="starts_at",
        )
    created = meeting_of(await found_meeting(conn, caller, meeting_id))
    await record_change(conn, caller, "meeting.create", "meeting", meeting_id, after=created)
    return created


async def make_meeting(conn: asyncpg.Connection, schedule: Schedule, made: Made, making: Making) -> None:
    """The Maker of owner_meeting schedules: the occurrence's quarter gets its meeting (planned), unless one was
    made by hand already, which stands (and nobody is told of the schedule's). A missed occurrence is announced."""
    if not made.missed:
        quarter = quarter_of(made.starts_at, schedule.timezone)
        meeting_id = new_id()
        values = {
            "id": meeting_id,
            "property_id": schedule.property_id,
            "quarter": quarter,
            "title_zh": f"{schedule.name}（{quarter}）",
            "title_en": f"{schedule.name} ({quarter})",
            "starts_at": made.starts_at,
            "ends_at": made.ends_at,
            "occurrence_key": made.key(schedule.id),
        }
        if not await sql.insert_meeting(conn, schedule.org_id, values):
            return
        await record(
            conn,
            org_id=schedule.org_id,
            actor_id=None,
            action="meeting.create",
            entity="meeting",
            entity_id=meeting_id,
            after={**values, "schedule_id": schedule.id},
        )
    await announce(conn, schedule, made, making)


# --- reading and changing -----------------------------------------------------------------------------------


async def get_meeting(conn: asyncpg.Connection, caller: Caller, meeting_id: str) -> Meeting:
    return meeting_of(await found_meeting(conn, caller, meeting_id))


async def list_meetings(
    conn: asyncpg.Connection, caller: Caller, property_id: str, cursor: str | None, limit: int
) -> Page[Meeting]:
    """The property's meetings, latest first."""
    await require_property(conn, caller, property_id)
    require_role(caller, "admin", "supervisor", "staff")
    rows = await sql.property_meetings(conn, caller.org_id, property_id, cursor, limit + 1)
    return page_of([meeting_of(r) for r in rows], limit)


async def update_meeting(conn: asyncpg.Connection, caller: Caller, meeting_id: str, data: MeetingUpdate) -> Meeting:
    """Change the title, times, place or agenda (admins) before the meeting is held; once noticed, the owners
    are told of the change."""
    row = await found_meeting(conn, caller, meeting_id, "admin", lock=True)
    refuse_unless(row, "update")
    given: dict[str, Any] = changes_of(data)
    if "agenda" in given:
        given["agenda"] = msgspec.to_builtins(given["agenda"])
    changes = {name: value for name, value in given.items() if row[name] != value}
    if not changes:
        return meeting_of(row)
    starts_at, ends_at = changes.get("starts_at", row["starts_at"]), changes.get("ends_at", row["ends_at"])
    _check_times(starts_at, ends_at)
    if "starts_at" in changes:
        changes["quarter"] = quarter_of(
            starts_at, await places_sql.property_timezone(conn, caller.org_id, row["property_id"])
        )
    after = await unique_or_conflict(
        sql.update_meeting(conn, caller.org_id, meeting_id, changes),
        "the property has an owner meeting in that quarter already (one per quarter)",
        "starts_at",
    )
    if row["status"] == "noticed":
        await tell_owners(
            conn,
            caller.org_id,
            after,
            "meeting.updated",
            f"meeting:{meeting_id}:updated:{after['updated_at'].isoformat()}",
        )
    updated = meeting_of(after)
    await record_change(conn, caller, "meeting.update", "meeting", meeting_id, before=meeting_of(row), after=updated)
    return updated


async def notice_meeting(conn: asyncpg.Connection, caller: Caller, meeting_id: str, now: datetime) -> Meeting:
    """Send the notice (admins): the property's owners are told and see the meeting through sync from now on.
    Once sent, sending it again changes and sends nothing."""
    row = await found_meeting(conn, caller, meeting_id, "admin", lock=True)
    if row["status"] in ("noticed", "held"):
        return meeting_of(row)
    refuse_unless(row, "notice")
    after = await sql.update_meeting(
        conn,
        caller.org_id,
        meeting_id,
        {"status": "noticed", "noticed_at": now, "owner_property_id": row["property_id"]},
    )
    await tell_owners(conn, caller.org_id, after, "meeting.notice", f"meeting:{meeting_id}:notice")
    noticed = meeting_of(after)
    await record_change(conn, caller, "meeting.notice", "meeting", meeting_id, before=meeting_of(row), after=noticed)
    return noticed


# --- minutes ------------------------------------------------------------------------------------------------


async def save_minutes(conn: asyncpg.Connection, caller: Caller, meeting_id: str, data: MinutesDraft) -> Meeting:
    """Write the draft minutes (supervisors, admins); owners see nothing of it until it is published."""
    row = await found_meeting(conn, caller, meeting_id, "supervise", lock=True)
    refuse_unless(row, "minutes")
    after = await sql.update_meeting(
        conn, caller.org_id, meeting_id, {"minutes_draft_zh": data.minutes_zh, "minutes_draft_en": data.minutes_en}
    )
    await record_change(conn, caller, "meeting.minutes_draft", "meeting", meeting_id, after=data)
    return meeting_of(after)


async def publish_minutes(conn: asyncpg.Connection, caller: Caller, meeting_id: str, now: datetime) -> Meeting:
    """Publish the draft minutes and every attachment (admins): the owners are told and read them through sync.
    Publishing again after a correction publishes the correction; with nothing changed it does nothing."""
    row = await found_meeting(conn, caller, meeting_id, "admin", lock=True)
    refuse_unless(row, "publish")
    drafts = {"minutes_zh": row["minutes_draft_zh"] or "", "minutes_en": row["minutes_draft_en"] or ""}
    blank = [
        FieldError(field=name, message="write the minutes first") for name, text in drafts.items() if not text.strip()
    ]
    if blank:
        raise Invalid("the minutes are empty: write them (PUT …/minutes) before publishing", blank)
    published = [{name: a[name] for name in PublishedAttachment.__struct_fields__} for a in row["draft_attachments"]]
    current = {"minutes_zh": row["minutes_zh"], "minutes_en": row["minutes_en"], "attachments": row["attachments"]}
    wanted = {**drafts, "attachments": published}
    if row["minutes_published_at"] is not None and current == wanted:
        return meeting_of(row)
    after = await sql.update_meeting(
        conn, caller.org_id, meeting_id, {**wanted, "minutes_published_at": now, "status": "held"}
    )
    await tell_owners(conn, caller.org_id, after, "meeting.minutes", f"meeting:{meeting_id}:minutes:{now.isoformat()}")
    held = meeting_of(after)
    await record_change(conn, caller, "meeting.publish", "meeting", meeting_id, before=meeting_of(row), after=held)
    return held


async def cancel_meeting(
    conn: asyncpg.Connection, caller: Caller, meeting_id: str, data: MeetingCancel, now: datetime
) -> Meeting:
    """Call a meeting off (the property's supervisors, admins) before it is held. The owners are told if its
    notice went out (they never heard of a planned one), and their phones pull it cancelled, with the reason.
    Cancelling it again changes and sends nothing."""
    row = await found_meeting(conn, caller, meeting_id, "supervise", lock=True)
    if row["status"] == "cancelled":
        return meeting_of(row)
    refuse_unless(row, "cancel")
    after = await sql.update_meeting(
        conn, caller.org_id, meeting_id, {"status": "cancelled", "cancelled_at": now, "cancel_reason": data.reason}
    )
    if row["status"] == "noticed":
        await tell_owners(conn, caller.org_id, after, "meeting.cancelled", f"meeting:{meeting_id}:cancelled")
    cancelled = meeting_of(after)
    await record_change(conn, caller, "meeting.cancel", "meeting", meeting_id, before=meeting_of(row), after=cancelled)
    return cancelled
