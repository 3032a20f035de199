"""Chasing what is due: reminders before a rectification order's deadline, a flag at it, escalation after it
(the property's supervisors, then the org's admins), and rounds nobody started in their window marked missed.

The worker calls these every minute. Each notice has a dedupe key naming the order, the step and the deadline
it is about, so a tick that runs twice (two workers, a retry, a restart) sends nothing twice, and a deadline
moved by a supervisor arms its reminders again. After downtime, each step that came due is sent once; of the
reminders only the latest (a "due in 24 h" notice is no use two hours before the deadline).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import asyncpg
import msgspec

from core.notifications.service import notify
from core.people import repository as people_sql
from inspections.repository import work as sql

log = logging.getLogger("fieldwork.inspections.deadlines")


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    reminder_hours: tuple[int, ...] = (24, 2)
    # hours after the deadline: to the property's supervisors, then to the org's admins (the property manager)
    escalation_hours: tuple[int, int] = (4, 24)


class Step(msgspec.Struct, frozen=True):
    name: str  # remind-24h, remind-2h, overdue, escalate-supervisors, escalate-admins
    at: datetime


def steps_due(due_at: datetime, now: datetime, policy: Policy) -> list[Step]:
    """The steps of one deadline whose moment has come by `now`."""
    steps: list[Step] = []
    if now < due_at:
        reminders = [
            Step(f"remind-{h}h", due_at - timedelta(hours=h))
            for h in sorted(policy.reminder_hours, reverse=True)
            if due_at - timedelta(hours=h) <= now
        ]
        return reminders[-1:]
    steps.append(Step("overdue", due_at))
    for name, hours in zip(("escalate-supervisors", "escalate-admins"), policy.escalation_hours, strict=True):
        if due_at + timedelta(hours=hours) <= now:
            steps.append(Step(name, due_at + timedelta(hours=hours)))
    return steps


TEXT = {
    "remind": ("整改单即将到期：{d}", "Rectification due soon: {d}"),
    "overdue": ("整改单已逾期：{d}", "Rectification overdue: {d}"),
    "escalate-supervisors": ("整改单逾期升级（主管）：{d}", "Overdue rectification escalated to supervisors: {d}"),
    "escalate-admins": ("整改单逾期升级（项目经理）：{d}", "Overdue rectification escalated to management: {d}"),
}


async def orders_to_chase(conn: asyncpg.Connection, now: datetime, policy: Policy) -> list[asyncpg.Record]:
    """Unverified orders whose deadline is within the longest reminder of `now`, or past."""
    return await sql.unverified_orders_due_by(conn, now + timedelta(hours=max(policy.reminder_hours, default=0)))


async def chase_order(conn: asyncpg.Connection, order: asyncpg.Record, now: datetime, policy: Policy) -> list[str]:
    """Send what came due for one order (each step once, ever); returns the steps sent now."""
    due_at: datetime = order["due_at"]
    sent = []
    for step in steps_due(due_at, now, policy):
        kind = "remind" if step.name.startswith("remind") else step.name
        if kind == "escalate-supervisors":
            recipients = await people_sql.supervisors_of(conn, order["org_id"], order["property_id"])
        elif kind == "escalate-admins":
            recipients = await people_sql.admins_of(conn, order["org_id"])
        elif order["responsible_id"]:
            recipients = [order["responsible_id"]]
        else:  # nobody took it yet: the supervisors chase it
            recipients = await people_sql.supervisors_of(conn, order["org_id"], order["property_id"])
        zh, en = TEXT[kind]
        short = order["description"][:80]
        fresh = await notify(
            conn,
            org_id=order["org_id"],
            dedupe_key=f"order:{order['id']}:{step.name}:{int(due_at.timestamp())}",
            kind=f"rectification.{kind}",
            recipients=recipients,
            title_zh=zh.format(d=short),
            title_en=en.format(d=short),
            property_id=order["property_id"],
            record_table="rectification_orders",
            record_id=order["id"],
            data={"due_at": due_at.isoformat(), "step": step.name, "status": order["status"]},
        )
        if fresh:
            sent.append(step.name)
    return sent


async def miss_rounds(conn: asyncpg.Connection, now: datetime) -> int:
    """Rounds still planned when their window closed become missed; the assignee and supervisors hear of it."""
    missed = await sql.mark_rounds_missed(conn, now)
    for row in missed:
        supervisors = await people_sql.supervisors_of(conn, row["org_id"], row["property_id"])
        await notify(
            conn,
            org_id=row["org_id"],
            dedupe_key=f"round:{row['id']}:missed",
            kind="round.missed",
            recipients=sorted({row["assignee_id"], *supervisors}),
            title_zh="巡检任务未在时段内开始，已记为漏检",
            title_en="A round was not started in its window and is marked missed",
            property_id=row["property_id"],
            record_table="rounds",
            record_id=row["id"],
            data={"window_end": row["window_end"].isoformat()},
        )
    if missed:
        log.info("marked %d rounds missed", len(missed))
    return len(missed)
