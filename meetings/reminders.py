"""Reminders before an owner meeting (the plug-in's `remind_meetings` job, every ten minutes):

- a meeting still not noticed a week before it starts: the org's admins and the property's supervisors, who
  must send the notice, are told once;
- a noticed meeting, the day (24 hours) before it starts: the property's owners are reminded in their inbox, once
  (not if the notice itself went out within that day: it is reminder enough).

Each notice's dedupe key names the meeting and its start, so a meeting moved to another day arms its reminders
again. A cancelled or held meeting is not reminded.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import asyncpg

from core.db import transaction
from core.jobs import JobContext
from core.notifications.service import notify
from core.people import repository as people_sql
from core.places import repository as places_sql
from core.schedules.recurrence import zone_of
from meetings import repository as sql
from meetings.service import tell_owners

log = logging.getLogger("fieldwork.meetings.reminders")

NOTICE_DUE = timedelta(days=7)  # how long before a meeting its notice must be out
OWNERS_REMINDED = timedelta(days=1)


async def tell_notice_due(conn: asyncpg.Connection, row: asyncpg.Record) -> bool:
    """The admins and supervisors: the meeting starts within a week and its notice is not out."""
    org_id, property_id = row["org_id"], row["property_id"]
    zone = zone_of(await places_sql.property_timezone(conn, org_id, property_id))
    when = f"{row['starts_at'].astimezone(zone):%Y-%m-%d %H:%M}"
    people = [*await people_sql.admins_of(conn, org_id), *await people_sql.supervisors_of(conn, org_id, property_id)]
    return await notify(
        conn,
        org_id=org_id,
        dedupe_key=f"meeting:{row['id']}:notice-due:{int(row['starts_at'].timestamp())}",
        kind="meeting.notice_due",
        recipients=sorted(set(people)),
        title_zh=f"业主会议将于一周内举行，尚未发出通知：{row['title_zh']}",
        title_en=f"Owner meeting within a week, its notice not sent: {row['title_en']}",
        body_zh=f"会议时间：{when}。请尽快向业主发出会议通知。",
        body_en=f"It starts {when}. Send the owners its notice.",
        property_id=property_id,
        record_table="owner_meetings",
        record_id=row["id"],
        data={"meeting_id": row["id"], "starts_at": row["starts_at"].isoformat()},
    )


async def remind(conn: asyncpg.Connection, row: asyncpg.Record) -> str | None:
    """What one meeting is reminded of now (its kind of notice), if anything not sent before."""
    if row["status"] == "planned":
        return "notice_due" if await tell_notice_due(conn, row) else None
    key = f"meeting:{row['id']}:reminder:{int(row['starts_at'].timestamp())}"
    return "owners_reminded" if await tell_owners(conn, row["org_id"], row, "meeting.reminder", key) else None


async def remind_meetings(job: JobContext) -> dict[str, int]:
    """Short transactions: one to find the meetings, one per meeting."""
    now = job.clock.now()
    async with transaction(job.pool) as conn:
        rows = await sql.meetings_to_remind(conn, now, NOTICE_DUE, OWNERS_REMINDED)
    counts = {"meetings": len(rows), "notice_due": 0, "owners_reminded": 0}
    for row in rows:
        async with transaction(job.pool) as conn:
            if sent := await remind(conn, row):
                counts[sent] += 1
    log.info("meeting reminders at %s: %s", now.isoformat(timespec="seconds"), counts)
    return counts
