"""Schedule kinds: what a kind of schedule takes and what each of its occurrences makes, declared by the package
that owns the kind (its plug-in) and checked once, when the registry is built at start-up.

The kernel declares only `custom` (an occurrence is announced to the admins and supervisors); rounds, survey
campaigns and owner meetings come from their domain packages.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

import asyncpg
import msgspec

from core.schedules.models import Made, Schedule

# as the database checks it (migration 0011)
NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class Making(msgspec.Struct, frozen=True, kw_only=True):
    """What a Maker may need besides the occurrence: the worker's clock reading, the installation's secret
    (survey links are derived from it) and the schedule's kind (its titles)."""

    now: datetime
    secret: str
    kind: ScheduleKind


# What an occurrence makes, in the transaction that recorded it.
Maker = Callable[[asyncpg.Connection, Schedule, Made, Making], Awaitable[None]]
# Checks what a payload names against the property (conn, org id, property id, payload), raising Invalid.
PayloadCheck = Callable[[asyncpg.Connection, str, str, Any], Awaitable[None]]


class ScheduleKind(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    summary: str  # one line for the API's description
    make: Maker
    # the Struct a schedule of this kind takes, in the request field `payload_field`; None: it takes none
    payload: type[msgspec.Struct] | None = None
    payload_field: str = "payload"
    payload_required: bool = False
    payload_hint: str = ""  # what to give, said when it is missing
    check: PayloadCheck | None = None
    # the rule and duration when the admin gives none
    default_rrule: str | None = None
    default_minutes: int | None = None
    # "horizon": occurrences up to FIELDWORK_SCHEDULE_HORIZON_DAYS ahead; "next": only up to the next one
    # (for kinds that recur every few months and are made once each)
    ahead: Literal["horizon", "next"] = "horizon"
    # the announcement's title, with {name} and {date} (local), Chinese and English
    title_zh: str = "计划事项（{name}）：{date}"
    title_en: str = "Scheduled: {name}, {date}"


class IncompleteKind(Exception):
    """A kind declared so that it would fail later (at a request, or in the worker at 3 a.m.)."""


def problems_of(kind: ScheduleKind) -> list[str]:
    problems = []
    if not NAME.match(kind.name):
        problems.append("its name must be of a-z, 0-9 and _, starting with a letter, at most 63 long")
    if kind.payload is not None and kind.check is None:
        problems.append("it takes a payload but has no check of what the payload names")
    if kind.payload is None and (kind.payload_required or kind.check is not None):
        problems.append("it requires or checks a payload but declares no payload Struct")
    if kind.payload_required and not kind.payload_hint:
        problems.append("its payload is required but no payload_hint says what to give")
    if kind.payload is not None and not kind.payload_field.isidentifier():
        problems.append("its payload_field must be an identifier")
    if (kind.default_rrule is None) != (kind.default_minutes is None):
        problems.append("give both default_rrule and default_minutes, or neither")
    for title in (kind.title_zh, kind.title_en):
        try:
            title.format(name="", date="")
        except (KeyError, IndexError, ValueError):
            problems.append(f"its title {title!r} may use only {{name}} and {{date}}")
    if not callable(kind.make):
        problems.append("it has no make (what an occurrence makes)")
    return problems


def kinds_by_name(kinds: Iterable[ScheduleKind]) -> Mapping[str, ScheduleKind]:
    """The kinds by name, each complete, names unique; IncompleteKind names every problem at once."""
    by_name: dict[str, ScheduleKind] = {}
    problems = []
    for kind in kinds:
        if kind.name in by_name:
            problems.append(f"schedule kind {kind.name!r} is declared twice")
        by_name[kind.name] = kind
        problems += [f"schedule kind {kind.name!r}: {p}" for p in problems_of(kind)]
    if problems:
        raise IncompleteKind("; ".join(problems))
    return by_name
