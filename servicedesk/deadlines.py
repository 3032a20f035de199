"""The service desk's deadlines, chased by the kernel's machinery (core/deadlines.py): the promised response and
resolution of each open ticket, and the return visit (回访) due a few days after its resolution. The person a
ticket is assigned to is reminded and told when it is late; nobody assigned, or a return visit (the desk's
task, not the engineer's), the property's supervisors; escalation goes to the supervisors, then the admins."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg

from core.deadlines import Deadline, DeadlineKind
from servicedesk.repository import tickets as sql

Scan = Callable[[asyncpg.Connection, datetime], Awaitable[list[asyncpg.Record]]]


def _deadlines(
    scan: Scan, which: str, column: str, *, to_responsible: bool
) -> Callable[..., Awaitable[list[Deadline]]]:
    async def due_by(conn: asyncpg.Connection, horizon: datetime) -> list[Deadline]:
        return [
            Deadline(
                org_id=row["org_id"],
                property_id=row["property_id"],
                record_table="tickets",
                record_id=row["id"],
                key=f"ticket:{row['id']}:{which}",
                due_at=row[column],
                responsible_ids=(row["responsible_id"],) if to_responsible and row["responsible_id"] else (),
                summary=row["description"][:80],
                data={"status": row["status"], "kind": row["kind"], "deadline": which},
            )
            for row in await scan(conn, horizon)
        ]

    return due_by


RESPONSE = DeadlineKind(
    name="ticket.response",
    about_zh="工单响应",
    about_en="a ticket's promised response",
    texts={
        "remind": ("工单即将超过响应时限：{d}", "A ticket's response is due soon: {d}"),
        "overdue": ("工单已超过响应时限：{d}", "A ticket's response is overdue: {d}"),
        "escalate-supervisors": ("工单响应逾期升级（主管）：{d}", "A ticket's overdue response, escalated: {d}"),
        "escalate-admins": (
            "工单响应逾期升级（项目经理）：{d}",
            "A ticket's overdue response, escalated to management: {d}",
        ),
    },
    due_by=_deadlines(sql.awaiting_response_by, "respond", "respond_due_at", to_responsible=True),
    reminder_hours=(1,),
)

RESOLUTION = DeadlineKind(
    name="ticket.resolution",
    about_zh="工单处理",
    about_en="a ticket's promised resolution",
    texts={
        "remind": ("工单即将超过处理时限：{d}", "A ticket's resolution is due soon: {d}"),
        "overdue": ("工单已超过处理时限：{d}", "A ticket's resolution is overdue: {d}"),
        "escalate-supervisors": ("工单处理逾期升级（主管）：{d}", "A ticket's overdue resolution, escalated: {d}"),
        "escalate-admins": (
            "工单处理逾期升级（项目经理）：{d}",
            "A ticket's overdue resolution, escalated to management: {d}",
        ),
    },
    due_by=_deadlines(sql.awaiting_resolution_by, "resolve", "resolve_due_at", to_responsible=True),
    reminder_hours=(4, 1),
)

VISIT = DeadlineKind(
    name="ticket.visit",
    about_zh="工单回访",
    about_en="a resolved ticket's return visit",
    texts={
        "remind": ("明日需回访：{d}", "A return visit is due tomorrow: {d}"),
        "overdue": ("回访已到期，请致电业主：{d}", "A return visit is due: call the owner: {d}"),
        "escalate-supervisors": ("回访逾期未做（主管）：{d}", "A return visit is overdue: {d}"),
        "escalate-admins": ("回访逾期未做（项目经理）：{d}", "A return visit is overdue, escalated to management: {d}"),
    },
    due_by=_deadlines(sql.awaiting_visit_by, "visit", "visit_due_at", to_responsible=False),
    reminder_hours=(24,),
)

DEADLINES = (RESPONSE, RESOLUTION, VISIT)
