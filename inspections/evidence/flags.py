"""Flags as records: the checks' findings kept (each kind flags a thing once), read by a property's supervisors
with its rounds and orders, and dismissed by one of them with a reason, in the audit trail. A flag never refuses a
push nor holds up a photo: the checks run after both, in the worker (job.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from core.access import Caller, found_in_scope, require_property
from core.audit import service as audit
from core.errors import NotFound
from core.structs import Page, page_of
from inspections.evidence.models import KINDS, Dismissal, Finding, Flag
from inspections.repository import evidence as sql
from inspections.repository import review as people_sql


def flag_of(row: asyncpg.Record) -> Flag:
    values: dict[str, Any] = dict(row)
    about_zh, about_en, unit = KINDS[values["kind"]]
    return msgspec.convert(
        {**values, "about_zh": about_zh, "about_en": about_en, "unit": unit}, Flag, from_attributes=False
    )


async def keep(conn: asyncpg.Connection, org_id: str, property_id: str, findings: list[Finding], now: datetime) -> int:
    """The findings as flags; returns how many are new (a finding its kind already flagged is not)."""
    made = 0
    for finding in findings:
        made += await sql.insert_flag(conn, org_id, property_id, msgspec.structs.asdict(finding), now) is not None
    return made


async def list_flags(
    conn: asyncpg.Connection,
    caller: Caller,
    property_id: str,
    *,
    status: str | None = None,
    kind: str | None = None,
    staff_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Flag]:
    """A property's flags, newest first: its supervisors and admins."""
    await require_property(conn, caller, property_id, "supervise")
    rows = await sql.list_flags(
        conn,
        caller.org_id,
        property_id,
        status=status,
        kind=kind,
        staff_id=staff_id,
        since=since,
        until=until,
        after=cursor,
        limit=limit + 1,
    )
    return page_of([flag_of(r) for r in rows], limit)


async def shown_with(
    conn: asyncpg.Connection, caller: Caller, *, round_ids: Sequence[str] = (), order_ids: Sequence[str] = ()
) -> list[Flag]:
    """The flags of these rounds and orders (the caller was found to see them), oldest first: for supervisors and
    admins; the staff whose work it is see none (a flag informs the person who judges)."""
    if caller.role not in ("admin", "supervisor") or not (round_ids or order_ids):
        return []
    return [flag_of(r) for r in await sql.flags_of(conn, caller.org_id, round_ids=round_ids, order_ids=order_ids)]


async def get_flag(conn: asyncpg.Connection, caller: Caller, flag_id: str) -> Flag:
    """One flag, for a supervisor of its property or an admin (NotFound for anyone else, as for a flag that is
    not there)."""
    missing = NotFound(f"flag {flag_id} not found", entity="evidence_flag", id=flag_id)
    return flag_of(
        await found_in_scope(conn, caller, await sql.get_flag(conn, caller.org_id, flag_id), missing, "supervise")
    )


async def people_named(conn: asyncpg.Connection, caller: Caller, shown: Sequence[Flag]) -> dict[str, str]:
    """The names of the people these flags (read through a use case that checked the caller) mention: whose
    evidence each judges, and who dismissed it."""
    people = sorted({p for flag in shown for p in (flag.staff_id, flag.dismissed_by) if p})
    return await people_sql.user_names(conn, caller.org_id, people) if people else {}


async def dismiss(conn: asyncpg.Connection, caller: Caller, flag_id: str, data: Dismissal, now: datetime) -> Flag:
    """A supervisor of the flag's property (or an admin) judges the evidence fine. Dismissing a dismissed flag
    again changes nothing (a retried request, or a second supervisor): the first reason stands."""
    missing = NotFound(f"flag {flag_id} not found", entity="evidence_flag", id=flag_id)
    row = await found_in_scope(
        conn, caller, await sql.get_flag(conn, caller.org_id, flag_id, lock=True), missing, "supervise"
    )
    if row["status"] == "dismissed":
        return flag_of(row)
    dismissed = await sql.dismiss(conn, caller.org_id, flag_id, by=caller.user_id, reason=data.reason, now=now)
    await audit.record(
        conn,
        org_id=caller.org_id,
        actor_id=caller.user_id,
        action="evidence_flag.dismiss",
        entity="evidence_flag",
        entity_id=flag_id,
        before={"status": row["status"]},
        after={"status": "dismissed", "reason": data.reason},
    )
    return flag_of(dismissed)
