"""Inspection KPIs of a property over a period of local days: rounds completed, checkpoints reached on time,
items passed, findings put right. The figures are counted in SQL (inspections/repository/kpis.py); this module
checks who may look and shapes the answer; core/periods.py turns the local dates into a UTC range.

A rate whose denominator is zero is null: "no rounds were due" is not "no rounds were completed".
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
import msgspec

from core.access import Caller, require_role, supervised_zone, visible_property_ids
from core.periods import KpiPeriod, resolve_period
from core.structs import Frozen
from inspections import kept
from inspections.repository import kpis as sql

# Shapes


class RoundKpis(Frozen, frozen=True):
    """Rounds whose window starts in the period (or, without a window, made in it). Due: completed, missed, or
    past its window's end; completion_rate = completed / due."""

    planned: int = 0
    in_progress: int = 0
    completed: int = 0
    missed: int = 0
    due: int = 0
    completion_rate: float | None = None


class VisitKpis(Frozen, frozen=True):
    """Checkpoint visits of the period's rounds by timing; timed = visits with any timing;
    on_time_rate = on_time / timed."""

    early: int = 0
    on_time: int = 0
    late: int = 0
    missed: int = 0
    timed: int = 0
    on_time_rate: float | None = None


class ResultKpis(Frozen, frozen=True):
    """Checklist results checked in the period by outcome; judged = passed + failed; pass_rate = passed / judged
    ('na' and unjudged results are left out)."""

    passed: int = 0
    failed: int = 0
    na: int = 0
    judged: int = 0
    pass_rate: float | None = None


class OrderKpis(Frozen, frozen=True):
    """Rectification orders, by what happened to each in the period, as of the period's end (or now, when the
    period has not ended). Lateness is judged against each order's first deadline (`original_due_at`), and an
    order is handed in when its latest submission stands (submitted, or verified; one sent back is not).

    - opened: made in the period.
    - due: every order whose first deadline fell in the period and has passed, whatever its state; of those,
      due_on_time: handed in by that deadline; due_handed_in_late: handed in after it; due_not_handed_in: still
      open or in progress (or sent back); due_extended: given a later deadline on a send-back.
      on_time_rate = due_on_time / due (the on-time closure rate: open overdue orders pull it down).
    - fixed: handed in during the period; mean_hours_to_fix: created -> (latest) submission, over those (the
      time to verify is the supervisors', in ReviewKpis).
    - open: not handed in at the period's end (or now); mean_open_age_hours, max_open_age_hours: their age then.
    - reopen_rate = reopened (sent back at least once) / submitted (submitted at least once), of those opened.
    """

    opened: int = 0
    due: int = 0
    due_on_time: int = 0
    due_handed_in_late: int = 0
    due_not_handed_in: int = 0
    due_extended: int = 0
    on_time_rate: float | None = None
    fixed: int = 0
    mean_hours_to_fix: float | None = None
    open: int = 0
    mean_open_age_hours: float | None = None
    max_open_age_hours: float | None = None
    submitted: int = 0
    reopened: int = 0
    reopen_rate: float | None = None


class ReviewKpis(Frozen, frozen=True):
    """Supervisors' verdicts on submitted fixes (verify or send back): the review delay, apart from the fixer's
    time. As of the period's end (or now, when the period has not ended).

    - reviews: verdicts given in the period; rejected, verified: the send-backs and verifications among them.
    - mean_review_hours, max_review_hours: from the submission each verdict answered to the verdict, over the
      reviews; mean_hours_to_verify: the same over the verifications (the time to verify).
    - awaiting_review: submissions without a verdict at the period's end; mean_hours_awaiting,
      max_hours_awaiting: how long they had waited then (in the totals only: a verdict not given names nobody).

    A person's row: the verdicts they gave.
    """

    reviews: int = 0
    rejected: int = 0
    verified: int = 0
    awaiting_review: int = 0
    mean_review_hours: float | None = None
    max_review_hours: float | None = None
    mean_hours_to_verify: float | None = None
    mean_hours_awaiting: float | None = None
    max_hours_awaiting: float | None = None


class EvidenceKpis(Frozen, frozen=True):
    """The evidence checks' findings against the evidence they looked at (docs/inspections.md): items = photos
    received and checkpoints scanned in the period; flags = open flags made in it (notes and dismissed flags do
    not count); flag_rate = flags / items. A person's row: their photos and scans, and the flags on them."""

    items: int = 0
    flags: int = 0
    flag_rate: float | None = None


class KpiFigures(Frozen, frozen=True):
    rounds: RoundKpis = msgspec.field(default_factory=RoundKpis)
    visits: VisitKpis = msgspec.field(default_factory=VisitKpis)
    items: ResultKpis = msgspec.field(default_factory=ResultKpis)
    rectification: OrderKpis = msgspec.field(default_factory=OrderKpis)
    reviews: ReviewKpis = msgspec.field(default_factory=ReviewKpis)
    evidence: EvidenceKpis = msgspec.field(default_factory=EvidenceKpis)


class StaffKpis(KpiFigures, frozen=True, kw_only=True):
    """One person's figures: rounds and their visits by assignee, results by who checked, orders by who answers
    for them, reviews by who gave the verdicts, evidence by who took the photos and scanned."""

    user_id: str
    name: str | None


class ItemKpis(ResultKpis, frozen=True, kw_only=True):
    """One checklist item of one template; its labels from the newest version of the template that has it."""

    template_id: str | None
    item_key: str
    label_zh: str | None
    label_en: str | None


class LocationKpis(ResultKpis, frozen=True, kw_only=True):
    """Results at one checkpoint; checkpoint_id null: results recorded at no checkpoint."""

    checkpoint_id: str | None
    name: str | None


class PropertyKpis(Frozen, frozen=True):
    property_id: str
    period: KpiPeriod
    totals: KpiFigures
    by_staff: list[StaffKpis]
    by_item: list[ItemKpis]
    by_location: list[LocationKpis]


class PropertyKpiTotals(Frozen, frozen=True):
    property_id: str
    name: str
    period: KpiPeriod
    totals: KpiFigures


class OrgKpis(Frozen, frozen=True):
    """The totals of each property the caller can see, each over the same local dates in its own time zone."""

    properties: list[PropertyKpiTotals]


# Use cases

F = TypeVar("F", bound=msgspec.Struct)


def take(row: asyncpg.Record | dict[str, Any], kind: type[F], **extra: Any) -> F:
    """A Struct from the columns of a row it names (rows carry grouping columns besides the figures)."""
    return msgspec.convert({**{name: row[name] for name in kind.__struct_fields__ if name not in extra}, **extra}, kind)


KEPT_RESULTS = "results"


def _whole_months(period: KpiPeriod, now: datetime) -> list[KpiPeriod]:
    """The calendar months wholly inside the period's local days that have ended by `now`, oldest first."""
    months: list[KpiPeriod] = []
    first = period.from_ if period.from_.day == 1 else (period.from_.replace(day=1) + timedelta(days=32)).replace(day=1)
    while True:
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        if last > period.to:
            return months
        month = resolve_period(first, last, period.timezone, now)
        if month.end_utc > now:
            return months
        months.append(month)
        first = last + timedelta(days=1)


async def _result_figures(
    conn: asyncpg.Connection, org_id: str, property_id: str, period: KpiPeriod, now: datetime
) -> list[asyncpg.Record]:
    """The result figures' rows over the period. Results count by their check time alone (never by the clock), so
    a month that has ended is settled: its counted rows are kept (inspections/kept.py) and a period holding whole
    months sums those with the days around them instead of reading every result again."""
    months = _whole_months(period, now)
    if len(months) < 2:  # not worth keeping
        return await sql.item_figures(conn, org_id, property_id, period.start_utc, period.end_utc)
    since = await kept.snapshot(conn)
    ranges = [(m.start_utc, m.end_utc) for m in months]
    known = await kept.still_true(conn, KEPT_RESULTS, org_id, property_id, ranges)
    missing = [r for r in ranges if r[0] not in known]
    if missing:
        counted = await sql.counted_of_ranges(
            conn, org_id, property_id, [r[0] for r in missing], [r[1] for r in missing]
        )
        await kept.keep(conn, KEPT_RESULTS, org_id, property_id, since, [(*r, counted[r[0]]) for r in missing])
        known |= counted
    parts = [(period.start_utc, months[0].start_utc), (months[-1].end_utc, period.end_utc)]
    parts = [(start, end) for start, end in parts if start < end]
    rows = [row for start, _ in ranges for row in known[start]]
    return await sql.item_figures_of_parts(
        conn, org_id, property_id, [p[0] for p in parts], [p[1] for p in parts], rows
    )


async def property_kpis(
    conn: asyncpg.Connection,
    caller: Caller,
    property_id: str,
    from_: date | str | None,
    to: date | str | None,
    now: datetime,
) -> PropertyKpis:
    """A property's KPIs over a period, totals and broken down by person, checklist item and checkpoint.
    For the property's supervisors and admins."""
    period = resolve_period(from_, to, await supervised_zone(conn, caller, property_id), now)
    span = (caller.org_id, property_id, period.start_utc, period.end_utc)
    rounds = await sql.round_figures(conn, *span, now)
    visits = await sql.visit_figures(conn, *span)
    results = await _result_figures(conn, caller.org_id, property_id, period, now)
    orders = await sql.order_figures(conn, *span, now)
    reviews = await sql.review_figures(conn, *span, now)
    evidence = await sql.evidence_figures(conn, *span)

    totals: dict[str, Any] = {}
    people: dict[str, dict[str, Any]] = {}
    for family, rows, kind in (
        ("rounds", rounds, RoundKpis),
        ("visits", visits, VisitKpis),
        ("items", results, ResultKpis),
        ("rectification", orders, OrderKpis),
        ("reviews", reviews, ReviewKpis),
        ("evidence", evidence, EvidenceKpis),
    ):
        for row in rows:
            if row["kind"] == "total":
                totals[family] = take(row, kind)
            elif row["kind"] == "staff" and row["user_id"] is not None:  # orders nobody answers for: totals only
                person = people.setdefault(row["user_id"], {"user_id": row["user_id"], "name": row["name"]})
                person[family] = take(row, kind)
    by_staff = sorted((StaffKpis(**p) for p in people.values()), key=lambda s: (s.name or "", s.user_id))
    by_item = sorted(
        (take(r, ItemKpis) for r in results if r["kind"] == "item"), key=lambda i: (i.template_id or "", i.item_key)
    )
    by_location = sorted(
        (take(r, LocationKpis, name=r["checkpoint_name"]) for r in results if r["kind"] == "location"),
        key=lambda loc: (loc.checkpoint_id is None, loc.name or "", loc.checkpoint_id or ""),
    )
    return PropertyKpis(
        property_id=property_id,
        period=period,
        totals=KpiFigures(**totals),
        by_staff=by_staff,
        by_item=by_item,
        by_location=by_location,
    )


async def org_kpis(
    conn: asyncpg.Connection, caller: Caller, from_: date | str | None, to: date | str | None, now: datetime
) -> OrgKpis:
    """The totals of every property the caller supervises (admins: all of the org's), in one statement."""
    require_role(caller, "admin", "supervisor")
    props = await sql.properties_in_scope(conn, caller.org_id, await visible_property_ids(conn, caller))
    periods = {p["id"]: resolve_period(from_, to, p["timezone"], now) for p in props}
    rows = await sql.property_totals(
        conn,
        caller.org_id,
        list(periods),
        [p.start_utc for p in periods.values()],
        [p.end_utc for p in periods.values()],
        now,
    )
    figures = {r["property_id"]: take(r, KpiFigures) for r in rows}
    return OrgKpis(
        properties=[
            PropertyKpiTotals(property_id=p["id"], name=p["name"], period=periods[p["id"]], totals=figures[p["id"]])
            for p in props
        ]
    )
