"""What the inspections have chased: rectification orders not yet verified (a `DeadlineKind` the kernel's
`chase_deadlines` job works through, core/deadlines.py), and rounds nobody started in their window, marked missed.
"""

from __future__ import annotations

import logging
from datetime import datetime

import asyncpg

from core.deadlines import Deadline, DeadlineKind
from core.notifications.service import notify
from core.people import repository as people_sql
from inspections.repository import work as sql

log = logging.getLogger("fieldwork.inspections.deadlines")


async def orders_due_by(conn: asyncpg.Connection, horizon: datetime) -> list[Deadline]:
    """Unverified orders whose deadline is at or before `horizon`. The key `order:<id>` keeps the dedupe keys
    of the notices sent before the machinery moved to the kernel, so a deployed database sends none again."""
    return [
        Deadline(
            org_id=row["org_id"],
            property_id=row["property_id"],
            record_table="rectification_orders",
            record_id=row["id"],
            key=f"order:{row['id']}",
            due_at=row["due_at"],
            responsible_ids=(row["responsible_id"],) if row["responsible_id"] else (),
            summary=row["description"][:80],
            data={"status": row["status"]},
        )
        for row in await sql.unverified_orders_due_by(conn, horizon)
    ]


RECTIFICATION = DeadlineKind(
    name="rectification",
    about_zh="整改单",
    about_en="a rectification order",
    texts={
        "remind": ("整改单即将到期：{d}", "Rectification due soon: {d}"),
        "overdue": ("整改单已逾期：{d}", "Rectification overdue: {d}"),
        "escalate-supervisors": ("整改单逾期升级（主管）：{d}", "Overdue rectification escalated to supervisors: {d}"),
        "escalate-admins": ("整改单逾期升级（项目经理）：{d}", "Overdue rectification escalated to management: {d}"),
    },
    due_by=orders_due_by,
)


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
