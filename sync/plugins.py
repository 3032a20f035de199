"""The plug-in object: everything a domain package (inspections, surveys, meetings, and every domain after them)
adds to the system, declared in one place, its `plugin.py`. The composition root (bootstrap/) lists the plug-ins;
the registry checks them together once, at start-up, and the adapters (api/, workers/, cli.py) read what they
need from it. Nothing below the domains names a domain's kind.

It lives in sync/ because sync is the layer right under the domains: it can name both what the kernel (core/)
and what the sync engine offers to plug into.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime

import asyncpg
import msgspec

from core.clock import Clock
from core.deadlines import DeadlineKind
from core.deadlines import notification_kinds as deadline_notices
from core.deadlines import problems_of as deadline_problems
from core.demo import DemoSummary
from core.jobs import Periodic
from core.notifications.kinds import KIND, NotificationKind
from core.schedules.kinds import IncompleteKind, ScheduleKind, kinds_by_name
from core.schedules.materialise import CUSTOM
from core.settings import Settings
from sync import tables
from sync.catalog import BadDeclaration, Catalog
from sync.photos.attach import attach_arrived
from sync.push import PushRule, PushRuleFactory


class Plugin(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    # synced tables, in the order a push writes them (parents first), and the rules a push runs once written
    tables: tuple[tables.Table, ...] = ()
    push_rules: tuple[PushRuleFactory, ...] = ()
    schedule_kinds: tuple[ScheduleKind, ...] = ()
    notification_kinds: tuple[NotificationKind, ...] = ()
    # deadlines chased by the kernel's chase_deadlines job; each kind's four notification kinds come with it
    deadlines: tuple[DeadlineKind, ...] = ()
    # periodic jobs: reminders, sweeps
    jobs: tuple[Periodic, ...] = ()
    # sample data of the domain for `fieldwork demo`, after the kernel's (an org with people and places)
    demo: Callable[[asyncpg.Connection, DemoSummary, datetime], Awaitable[msgspec.Struct]] | None = None


class PluginError(Exception):
    """Plug-ins that do not fit together, or a declaration that would fail later: every problem, named."""


def _attach_photos(clock: Clock, settings: Settings) -> PushRule:
    return attach_arrived


# What the kernel plugs in itself: its tables, its push rule (a photo row meeting its bytes), its schedule kind
KERNEL = Plugin(
    name="kernel",
    tables=tables.TABLES,
    push_rules=(_attach_photos,),
    schedule_kinds=(CUSTOM,),
)


class Registry:
    """The plug-ins, checked together: one catalog of synced tables, schedule kinds, notification kinds (a
    deadline kind's four among them), deadline kinds and jobs, each name once."""

    def __init__(self, plugins: Iterable[Plugin]) -> None:
        self.plugins: tuple[Plugin, ...] = (KERNEL, *plugins)
        problems: list[str] = []
        names = [p.name for p in self.plugins]
        problems += [f"plug-in {n!r} is registered twice" for n in sorted(set(names)) if names.count(n) > 1]
        try:
            self.catalog = Catalog(
                (t for p in self.plugins for t in p.tables), [r for p in self.plugins for r in p.push_rules]
            )
        except BadDeclaration as exc:
            problems.append(str(exc))
        try:
            self.schedule_kinds: Mapping[str, ScheduleKind] = kinds_by_name(
                k for p in self.plugins for k in p.schedule_kinds
            )
        except IncompleteKind as exc:
            problems.append(str(exc))
            self.schedule_kinds = {}
        self.notification_kinds: dict[str, NotificationKind] = {
            f"schedule.{kind.name}": NotificationKind(
                name=f"schedule.{kind.name}",
                about_zh=f"计划（{kind.name}）的一次到期或错过",
                about_en=f"an occurrence of a {kind.name} schedule is due, or was missed",
            )
            for kind in self.schedule_kinds.values()
        }
        self.jobs: dict[str, Periodic] = {}
        self.deadline_kinds: dict[str, DeadlineKind] = {}
        for plugin in self.plugins:
            for deadline in plugin.deadlines:
                if deadline.name in self.deadline_kinds:
                    problems.append(f"deadline kind {deadline.name!r} is declared twice")
                problems += [f"deadline kind {deadline.name!r}: {p}" for p in deadline_problems(deadline)]
                self.deadline_kinds[deadline.name] = deadline
            for notice in (*plugin.notification_kinds, *(n for d in plugin.deadlines for n in deadline_notices(d))):
                if notice.name in self.notification_kinds:
                    problems.append(f"notification kind {notice.name!r} is declared twice")
                if not KIND.match(notice.name):
                    problems.append(f"notification kind {notice.name!r} is not of [a-z0-9_.-], 1-64 long")
                self.notification_kinds[notice.name] = notice
            for job in plugin.jobs:
                if job.name in self.jobs:
                    problems.append(f"job {job.name!r} is declared twice")
                self.jobs[job.name] = job
        if problems:
            raise PluginError("the plug-ins do not fit: " + "; ".join(problems))

    def has(self, name: str) -> bool:
        """Whether the plug-in `name` is registered (its routes, pages and jobs are then there)."""
        return any(plugin.name == name for plugin in self.plugins)
