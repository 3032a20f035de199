"""Attendance at an owner meeting, by household (unit): present in person or by proxy (委托代理人). Recorded by
the property's supervisors once the notice is out; read by its staff with the counts."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from core.access import Caller
from core.audit.service import record_change
from core.errors import FieldError, Invalid
from meetings import repository as sql
from meetings.schemas import Attendance, AttendanceIn, AttendanceRow
from meetings.service import found_meeting, refuse_unless


async def get_attendance(conn: asyncpg.Connection, caller: Caller, meeting_id: str) -> Attendance:
    row = await found_meeting(conn, caller, meeting_id)
    return await _attendance(conn, caller.org_id, row)


async def _attendance(conn: asyncpg.Connection, org_id: str, row: asyncpg.Record) -> Attendance:
    units = [msgspec.convert(dict(r), AttendanceRow) for r in await sql.attendance(conn, org_id, row["id"])]
    invited = len(await sql.unit_ids(conn, org_id, row["property_id"]))
    present = sum(1 for unit in units if unit.present)
    return Attendance(
        meeting_id=row["id"],
        units=units,
        invited=invited,
        present=present,
        by_proxy=sum(1 for unit in units if unit.present and unit.proxy_name),
        rate=round(present / invited, 4) if invited else None,
    )


async def record_attendance(
    conn: asyncpg.Connection, caller: Caller, meeting_id: str, data: AttendanceIn, now: datetime
) -> Attendance:
    """Set the meeting's attendance, every household at once (supervisors, admins), once the notice is out."""
    row = await found_meeting(conn, caller, meeting_id, "supervise", lock=True)
    refuse_unless(row, "attendance")
    units = await sql.unit_ids(conn, caller.org_id, row["property_id"])
    errors, seen = [], set()
    for index, entry in enumerate(data.units):
        field = f"units.{index}"
        if entry.unit_id not in units:
            errors.append(FieldError(field=f"{field}.unit_id", message="not a unit of this property", row=index))
        elif entry.unit_id in seen:
            errors.append(FieldError(field=f"{field}.unit_id", message="given twice", row=index))
        if entry.proxy_name and not entry.present:
            errors.append(FieldError(field=f"{field}.proxy_name", message="a proxy attends for a household", row=index))
        seen.add(entry.unit_id)
    if errors:
        raise Invalid("the attendance names households it cannot", errors)
    entries = [(e.unit_id, e.present, e.proxy_name) for e in data.units]
    await sql.replace_attendance(conn, caller.org_id, meeting_id, entries, caller.user_id, now)
    recorded = await _attendance(conn, caller.org_id, row)
    summary = {"present": recorded.present, "recorded": len(recorded.units), "by_proxy": recorded.by_proxy}
    await record_change(conn, caller, "meeting.attendance", "meeting", meeting_id, after=summary)
    return recorded
