"""Chasing what is due, for any domain: reminders before a deadline, a flag at it, escalation after it (to the
property's supervisors, then to the org's admins).

A domain declares a `DeadlineKind` in its plug-in (`Plugin.deadlines`): its notification kind prefix, its titles
and `due_by`, which lists its open items due by a horizon as `Deadline`s. The kernel's `chase_deadlines` job
(workers/jobs/deadlines.py) asks every kind for what is due and `chase`s each deadline in a short transaction of
its own.

Each notice's dedupe key names the deadline's key, the step and the moment it is about
(`order:<id>:overdue:<epoch>`), so a tick that runs twice (two workers, a retry, a restart) sends nothing twice,
and a deadline that moves arms its steps again. After downtime each step that came due is sent once; of the
reminders only the latest (a "due in 24 h" notice is no use two hours before the deadline).

Step names: `remind-<n>h` for a whole number of hours (`remind-24h`), else `remind-<n>m` for a whole number of
minutes (0.5 h: `remind-30m`), else `remind-<n>s`; then `overdue`, `escalate-supervisors`, `escalate-admins`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from core.notifications.kinds import NotificationKind
from core.notifications.service import notify
from core.people import repository as people_sql
from core.settings import Settings

# the kinds of step, each a notification kind `<DeadlineKind.name>.<step kind>`
STEP_KINDS = ("remind", "overdue", "escalate-supervisors", "escalate-admins")


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    reminder_hours: tuple[float, ...] = (24, 2)
    # hours after the deadline: to the property's supervisors, then to the org's admins (the property manager)
    escalation_hours: tuple[float, float] = (4, 24)


class Step(msgspec.Struct, frozen=True):
    name: str  # remind-24h, remind-2h, overdue, escalate-supervisors, escalate-admins
    at: datetime

    @property
    def kind(self) -> str:
        """remind, overdue, escalate-supervisors or escalate-admins."""
        return "remind" if self.name.startswith("remind-") else self.name


def reminder_name(hours: float) -> str:
    """remind-24h, remind-30m (0.5 h), remind-90s: the largest unit the lead time is a whole number of."""
    seconds = round(hours * 3600)
    if seconds % 3600 == 0:
        return f"remind-{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"remind-{seconds // 60}m"
    return f"remind-{seconds}s"


def steps_due(due_at: datetime, now: datetime, policy: Policy) -> list[Step]:
    """The steps of one deadline whose moment has come by `now`."""
    if now < due_at:
        reminders = [
            Step(reminder_name(h), due_at - timedelta(hours=h))
            for h in sorted(policy.reminder_hours, reverse=True)
            if due_at - timedelta(hours=h) <= now
        ]
        return reminders[-1:]
    steps = [Step("overdue", due_at)]
    for name, hours in zip(("escalate-supervisors", "escalate-admins"), policy.escalation_hours, strict=True):
        if due_at + timedelta(hours=hours) <= now:
            steps.append(Step(name, due_at + timedelta(hours=hours)))
    return steps


class Deadline(msgspec.Struct, frozen=True, kw_only=True):
    """One thing that is due."""

    org_id: str
    property_id: str
    record_table: str  # the table of the record it is about
    record_id: str
    # dedupe prefix naming the thing and which of its deadlines: "order:<id>", "ticket:<id>:respond"
    key: str
    due_at: datetime
    # who is reminded and told it is overdue; nobody named: the property's supervisors chase it
    responsible_ids: tuple[str, ...] = ()
    summary: str  # short text put in the titles ({d})
    data: dict[str, Any] = {}  # extra data for the notification (status…)


DueBy = Callable[[asyncpg.Connection, datetime], Awaitable[list[Deadline]]]


class DeadlineKind(msgspec.Struct, frozen=True, kw_only=True):
    """Deadlines a domain has chased: its notification kinds are `<name>.<step kind>` (STEP_KINDS)."""

    name: str  # notification kind prefix: <name>.remind, <name>.overdue, <name>.escalate-supervisors…
    about_zh: str  # what it is, for GET /notifications/kinds: "整改单"
    about_en: str  # "a rectification order"
    texts: dict[str, tuple[str, str]]  # step kind -> (zh, en) title templates with {d}, the deadline's summary
    due_by: DueBy  # open items whose deadline is at or before the given horizon
    # overrides the settings' reminders for this kind (a 4-hour promise wants 1 h, not 24 h)
    reminder_hours: tuple[float, ...] | None = None


def notification_kinds(kind: DeadlineKind) -> tuple[NotificationKind, ...]:
    """The four notification kinds a deadline kind sends (the registry declares them for it)."""
    zh, en = kind.about_zh, kind.about_en
    about = {
        "remind": (f"{zh}即将到期", f"{en} is due soon"),
        "overdue": (f"{zh}已逾期", f"{en} is overdue"),
        "escalate-supervisors": (f"逾期{zh}升级到主管", f"{en} overdue, escalated to the property's supervisors"),
        "escalate-admins": (f"逾期{zh}升级到管理员", f"{en} overdue, escalated to the org's admins"),
    }
    return tuple(
        NotificationKind(name=f"{kind.name}.{step}", about_zh=about[step][0], about_en=about[step][1])
        for step in STEP_KINDS
    )


def problems_of(kind: DeadlineKind) -> list[str]:
    """What in a kind's declaration would fail in the worker (the registry names them at start-up)."""
    problems = []
    if missing := [step for step in STEP_KINDS if step not in kind.texts]:
        problems.append(f"it has no titles for {', '.join(missing)}")
    if unknown := sorted(set(kind.texts) - set(STEP_KINDS)):
        problems.append(f"it has titles for steps that do not exist: {', '.join(unknown)}")
    for title in (t for pair in kind.texts.values() for t in pair):
        try:
            title.format(d="")
        except (KeyError, IndexError, ValueError):
            problems.append(f"its title {title!r} may use only {{d}}")
    if kind.reminder_hours is not None and any(h <= 0 for h in kind.reminder_hours):
        problems.append("its reminder_hours must be positive")
    return problems


def policy_of(settings: Settings, kind: DeadlineKind | None = None) -> Policy:
    """The settings' reminders and escalations, with the kind's own reminders if it has them."""
    reminders = kind.reminder_hours if kind is not None and kind.reminder_hours is not None else None
    return Policy(
        reminder_hours=reminders if reminders is not None else tuple(map(float, settings.reminder_hours)),
        escalation_hours=(settings.escalate_supervisors_hours, settings.escalate_admins_hours),
    )


def horizon_of(now: datetime, policy: Policy) -> datetime:
    """How far ahead `due_by` must look at `now`: the longest reminder."""
    return now + timedelta(hours=max(policy.reminder_hours, default=0))


async def _recipients(conn: asyncpg.Connection, deadline: Deadline, step_kind: str) -> list[str]:
    if step_kind == "escalate-admins":
        return await people_sql.admins_of(conn, deadline.org_id)
    if step_kind == "escalate-supervisors" or not deadline.responsible_ids:
        return await people_sql.supervisors_of(conn, deadline.org_id, deadline.property_id)
    return list(deadline.responsible_ids)


async def chase(
    conn: asyncpg.Connection, kind: DeadlineKind, deadline: Deadline, now: datetime, policy: Policy
) -> list[str]:
    """Send what came due for one deadline (each step once, ever), in the caller's transaction; returns the names
    of the steps sent now."""
    due_at = deadline.due_at
    sent = []
    for step in steps_due(due_at, now, policy):
        zh, en = kind.texts[step.kind]
        fresh = await notify(
            conn,
            org_id=deadline.org_id,
            dedupe_key=f"{deadline.key}:{step.name}:{int(due_at.timestamp())}",
            kind=f"{kind.name}.{step.kind}",
            recipients=await _recipients(conn, deadline, step.kind),
            title_zh=zh.format(d=deadline.summary),
            title_en=en.format(d=deadline.summary),
            property_id=deadline.property_id,
            record_table=deadline.record_table,
            record_id=deadline.record_id,
            data={**deadline.data, "due_at": due_at.isoformat(), "step": step.name},
        )
        if fresh:
            sent.append(step.name)
    return sent
