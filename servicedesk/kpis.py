"""Service desk KPIs (工单指标) of a property over a period of local days (core/periods.py, as the inspection KPIs
take it): timeliness against the promises, first-time fixes, waits, return visits, complaints per household,
repeats, and the months' counts. Counted in SQL (servicedesk/repository/kpis.py); this module checks who may
look and shapes the answer. docs/service-desk.md writes every formula out.

The practice's rules for figures (DESIGN.md, "Figures"): everything that fell due counts, the open overdue
tickets too; lateness is judged against the first promise (`*_due_original`), never one extended later; figures
are as of the period's end (or now, when it has not ended); a rate whose denominator is 0 is null.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg
import msgspec

from core.access import Caller, require_role, supervised_zone
from core.periods import KpiPeriod, resolve_period
from core.structs import Frozen
from servicedesk.repository import kpis as sql

# Shapes


class IntakeKpis(Frozen, frozen=True):
    """Tickets received in the period. declined: of those, declined (as of the period's end); complaints: of kind
    complaint; repeats: of those, the ones with an earlier ticket of the same unit and category, not declined,
    received in the 30 days before (重复报事); repeat_rate = repeats / received."""

    received: int = 0
    declined: int = 0
    complaints: int = 0
    repeats: int = 0
    repeat_rate: float | None = None


class ResponseKpis(Frozen, frozen=True):
    """Response timeliness (响应及时率; 报修响应及时率 for repairs). The response is the first contact
    (responded_at) or, when none was recorded, the first resolution.

    - due: every ticket whose first promised response time (respond_due_original) fell in the period and has
      passed, answered or not; on_time: answered by it; late: answered after it; not_responded: not answered by
      the period's end (open overdue); extended: given a later promise since. on_time_rate = on_time / due.
      Declined tickets never have a promise, so are never due.
    - responded: tickets first answered in the period; mean_hours_to_respond: received -> response, over those.
    """

    due: int = 0
    on_time: int = 0
    late: int = 0
    not_responded: int = 0
    extended: int = 0
    on_time_rate: float | None = None
    responded: int = 0
    mean_hours_to_respond: float | None = None


class ResolutionKpis(Frozen, frozen=True):
    """Resolution timeliness (处理及时率; 投诉处理及时率 for complaints) and first-time fixes (维修合格率 for repairs).
    A ticket's resolution is its first applied `resolve` event: the work is judged when it is first handed in;
    a dispute or a poor return visit that reopens it is counted apart (reopened, first_time_fix_rate).

    - due: every ticket whose first promised resolution time (resolve_due_original) fell in the period and has
      passed, resolved or not; on_time: first resolved by it; late: after it; not_resolved: not resolved by the
      period's end (open overdue); extended: given a later promise since. on_time_rate = on_time / due.
    - resolved: tickets first resolved in the period; mean_hours_to_resolve: received -> first resolution, over
      those; reopened: of those, reopened since (by the period's end); first_time_fixed = resolved - reopened;
      first_time_fix_rate = first_time_fixed / resolved.
    """

    due: int = 0
    on_time: int = 0
    late: int = 0
    not_resolved: int = 0
    extended: int = 0
    on_time_rate: float | None = None
    resolved: int = 0
    mean_hours_to_resolve: float | None = None
    first_time_fixed: int = 0
    reopened: int = 0
    first_time_fix_rate: float | None = None


class ConfirmationKpis(Frozen, frozen=True):
    """The owner's confirmation, a wait of its own (not the staff's time): tickets confirmed in the period, by
    whom (owner, staff who asked them, or auto: the owner kept silent and the worker confirmed it);
    mean_hours_to_confirm: the (latest) resolution -> the confirmation, over those."""

    confirmed: int = 0
    by_owner: int = 0
    by_staff: int = 0
    auto_confirmed: int = 0
    mean_hours_to_confirm: float | None = None


class ReturnVisitKpis(Frozen, frozen=True):
    """Return visits (回访).

    - closed: tickets closed in the period; closed_after_visit: of those, visited at least once before;
      visit_coverage = closed_after_visit / closed (回访率: a supervisor closing without a visit pulls it down).
    - rated_visits: return visits made in the period with a rating (every visit counts, the ones that reopened
      their ticket too); mean_rating = Σ rating / rated_visits (a figure of visits, not households);
      low_ratings: those rated 1 or 2 (each sends its ticket back to work).
    """

    closed: int = 0
    closed_after_visit: int = 0
    visit_coverage: float | None = None
    rated_visits: int = 0
    mean_rating: float | None = None
    low_ratings: int = 0


class DeskFigures(Frozen, frozen=True):
    intake: IntakeKpis = msgspec.field(default_factory=IntakeKpis)
    response: ResponseKpis = msgspec.field(default_factory=ResponseKpis)
    resolution: ResolutionKpis = msgspec.field(default_factory=ResolutionKpis)
    confirmation: ConfirmationKpis = msgspec.field(default_factory=ConfirmationKpis)
    visits: ReturnVisitKpis = msgspec.field(default_factory=ReturnVisitKpis)


class KindDeskKpis(DeskFigures, frozen=True, kw_only=True):
    """The figures of one kind of ticket (repair, complaint, suggestion, praise, enquiry)."""

    kind: str


class CategoryDeskKpis(DeskFigures, frozen=True, kw_only=True):
    """The figures of one category (core/vocabulary.py CATEGORIES)."""

    category: str


class ChannelDeskKpis(DeskFigures, frozen=True, kw_only=True):
    """The figures of one channel (app, web, front_desk, hotline, round)."""

    channel: str


class StaffDeskKpis(DeskFigures, frozen=True, kw_only=True):
    """The figures of the tickets one person is responsible for (responsible_id; tickets nobody answers for
    are in the totals only)."""

    user_id: str
    name: str | None


class MonthDeskCounts(Frozen, frozen=True):
    """Tickets received in one local month (YYYY-MM) of the period (the first and last months as far as the
    period covers them), by kind, by category and by outcome as of the period's end: declined, pending (not yet
    verified), open (accepted, assigned, responded), resolved (resolved or confirmed, the visit or close still
    to come), closed. Kinds, categories and outcomes with no ticket are left out."""

    month: str
    received: int
    by_kind: dict[str, int]
    by_category: dict[str, int]
    by_outcome: dict[str, int]


class DeskTotals(Frozen, frozen=True):
    """A property's totals; households: its units; complaints_per_100_households = complaints received in the
    period / households × 100 (投诉率)."""

    households: int
    complaints_per_100_households: float | None
    totals: DeskFigures


class PropertyDeskKpis(DeskTotals, frozen=True, kw_only=True):
    property_id: str
    period: KpiPeriod
    by_kind: list[KindDeskKpis]
    by_category: list[CategoryDeskKpis]
    by_channel: list[ChannelDeskKpis]
    by_staff: list[StaffDeskKpis]
    monthly: list[MonthDeskCounts]


# Shaping rows


def _figures(row: asyncpg.Record | dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The family__figure columns of a row, as {family: {figure: value}}."""
    return {family: {name: row[f"{family}__{name}"] for name in figures} for family, figures in sql.FIGURES.items()}


def _per_100(complaints: int, households: int) -> float | None:
    return complaints * 100 / households if households else None


def _totals(row: asyncpg.Record | dict[str, Any], households: int) -> DeskTotals:
    figures = msgspec.convert(_figures(row), DeskFigures)
    return DeskTotals(
        households=households,
        complaints_per_100_households=_per_100(figures.intake.complaints, households),
        totals=figures,
    )


def _monthly(rows: list[asyncpg.Record]) -> list[MonthDeskCounts]:
    months: dict[str, dict[str, Any]] = {}
    for row in rows:
        month = months.setdefault(
            row["month"],
            {"month": row["month"], "received": 0, "by_kind": {}, "by_category": {}, "by_outcome": {}},
        )
        if row["by_kind"]:
            month["by_kind"][row["kind"]] = row["received"]
            month["received"] += row["received"]
        elif row["by_category"]:
            month["by_category"][row["category"]] = row["received"]
        else:
            month["by_outcome"][row["outcome"]] = row["received"]
    return [msgspec.convert(m, MonthDeskCounts) for _, m in sorted(months.items())]


# Use cases


async def supervised_period(
    conn: asyncpg.Connection,
    caller: Caller,
    property_id: str,
    from_: date | str | None,
    to: date | str | None,
    now: datetime,
) -> KpiPeriod:
    """The period asked for, in the property's zone, once the caller is found to supervise the property (its
    supervisors and admins; else NotFound or Forbidden). The KPIs' and the ledger's."""
    return resolve_period(from_, to, await supervised_zone(conn, caller, property_id), now)


async def property_desk_kpis(
    conn: asyncpg.Connection,
    caller: Caller,
    property_id: str,
    from_: date | str | None,
    to: date | str | None,
    now: datetime,
) -> PropertyDeskKpis:
    """A property's service desk KPIs over a period: totals, per kind, category, channel and person, and the
    local months' counts. For the property's supervisors and admins."""
    period = await supervised_period(conn, caller, property_id, from_, to, now)
    span = (caller.org_id, property_id, period.start_utc, period.end_utc, now)
    rows = await sql.property_figures(conn, *span)
    months = await sql.monthly_counts(conn, *span, period.timezone)
    households = await sql.households(conn, caller.org_id, property_id)
    groups: dict[str, list[asyncpg.Record]] = {}
    for row in rows:
        groups.setdefault(row["grouping"], []).append(row)
    # an aggregate over GROUPING SETS gives the () row even over no ticket at all
    totals = _totals(groups["total"][0], households)

    def figures(row: asyncpg.Record, **key: Any) -> dict[str, Any]:
        return {**_figures(row), **key}

    return PropertyDeskKpis(
        property_id=property_id,
        period=period,
        households=totals.households,
        complaints_per_100_households=totals.complaints_per_100_households,
        totals=totals.totals,
        by_kind=sorted(
            (msgspec.convert(figures(r, kind=r["kind"]), KindDeskKpis) for r in groups.get("kind", [])),
            key=lambda k: k.kind,
        ),
        by_category=sorted(
            (msgspec.convert(figures(r, category=r["category"]), CategoryDeskKpis) for r in groups.get("category", [])),
            key=lambda c: c.category,
        ),
        by_channel=sorted(
            (msgspec.convert(figures(r, channel=r["channel"]), ChannelDeskKpis) for r in groups.get("channel", [])),
            key=lambda c: c.channel,
        ),
        by_staff=sorted(
            (
                msgspec.convert(figures(r, user_id=r["user_id"], name=r["name"]), StaffDeskKpis)
                for r in groups.get("staff", [])
                if r["user_id"] is not None
            ),
            key=lambda s: (s.name or "", s.user_id),
        ),
        monthly=_monthly(months),
    )


async def desk_totals(
    conn: asyncpg.Connection, caller: Caller, periods: dict[str, KpiPeriod], now: datetime
) -> dict[str, DeskTotals]:
    """The totals of each property in `periods` (property id -> its period), in one statement. The caller has
    checked the scope (they are the properties it may supervise)."""
    require_role(caller, "admin", "supervisor")
    rows = await sql.property_totals(
        conn,
        caller.org_id,
        list(periods),
        [p.start_utc for p in periods.values()],
        [p.end_utc for p in periods.values()],
        now,
    )
    return {r["property_id"]: _totals(r, r["households"]) for r in rows}
