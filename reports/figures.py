"""The figures of a property report, gathered from the domains' use cases into one Struct: the API's JSON and the
PDF (reports/pdf.py) are both made from it, so they cannot disagree.

Rates are fractions (0.875), None when nothing was counted, as the KPI routes give them; the PDF writes them as
percentages (reports/words.py `percent`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from datetime import datetime

import asyncpg

from core.access import Caller
from core.errors import NotFound
from core.periods import resolve_period
from core.places import repository as places_sql
from core.structs import Frozen
from inspections import kpis
from inspections.kpis import KpiFigures
from inspections.ledger import LedgerLine, ledger_summary
from reports.periods import TREND_MONTHS, ReportPeriod, previous, require_started, trend_months
from servicedesk.kpis import DeskTotals, desk_totals
from surveys import actions, campaigns
from surveys.report import campaign_report

Step = Callable[[str], Awaitable[None]]


class Figure(Frozen, frozen=True):
    """One headline figure of the period and of the period before; kind: rate (a fraction), count or hours."""

    key: str
    zh: str
    en: str
    kind: str
    value: float | None
    previous: float | None


class TrendMonth(Frozen, frozen=True):
    month: str  # YYYY-MM
    completion_rate: float | None
    visit_on_time_rate: float | None
    pass_rate: float | None
    rectification_on_time_rate: float | None


class Ledger(Frozen, frozen=True):
    """The rectification ledger of the period (inspections/kpis.py OrderKpis' meanings), and by category and
    severity."""

    opened: int
    fixed: int
    due: int
    due_on_time: int
    overdue: int  # due in the period and not handed in at its end
    open: int
    on_time_rate: float | None
    lines: list[LedgerLine]


class DimensionLine(Frozen, frozen=True):
    key: str
    name_zh: str
    name_en: str
    score: float | None
    change: float | None
    satisfaction_rate: float | None


class ActionLine(Frozen, frozen=True):
    dimension: str
    dimension_zh: str
    dimension_en: str
    title_zh: str
    title_en: str
    due_at: datetime
    status: str  # open | done
    done_at: datetime | None


class Satisfaction(Frozen, frozen=True):
    """The property's survey campaign that closed last by the period's end."""

    campaign_id: str
    name_zh: str
    name_en: str
    closes_at: datetime
    published: bool
    responses: int
    invited: int
    response_rate: float | None
    score: float | None  # the overall household score, 1-5
    score_change: float | None
    satisfaction_rate: float | None
    nps: int | None
    nps_change: int | None
    dimensions: list[DimensionLine]  # those any household rated, template order
    actions: list[ActionLine]


class PropertyReport(Frozen, frozen=True):
    property_id: str
    property_name: str
    timezone: str
    period: ReportPeriod
    previous_period: ReportPeriod
    made_at: datetime
    figures: list[Figure]  # the headline table
    kpis: KpiFigures  # the period's inspection KPIs in full, as GET /properties/{id}/kpis gives them
    previous_kpis: KpiFigures
    trend: list[TrendMonth]  # the 12 local months ending with the period's last
    ledger: Ledger
    satisfaction: Satisfaction | None  # None: no campaign had closed by then (or surveys are not registered)
    service_desk: DeskTotals | None  # None: the service desk is not registered


# (key, 中文, English, kind, where in KpiFigures)
HEADLINES: list[tuple[str, str, str, str, Callable[[KpiFigures], float | None]]] = [
    ("completion_rate", "巡检完成率", "Round completion", "rate", lambda k: k.rounds.completion_rate),
    ("rounds_due", "应完成巡检", "Rounds due", "count", lambda k: k.rounds.due),
    ("rounds_completed", "已完成巡检", "Rounds completed", "count", lambda k: k.rounds.completed),
    ("visit_on_time_rate", "点位准时率", "Visits on time", "rate", lambda k: k.visits.on_time_rate),
    ("pass_rate", "检查合格率", "Item pass rate", "rate", lambda k: k.items.pass_rate),
    ("items_failed", "不合格项", "Items failed", "count", lambda k: k.items.failed),
    (
        "rectification_on_time_rate",
        "整改按时率",
        "Rectification on time",
        "rate",
        lambda k: k.rectification.on_time_rate,
    ),
    ("orders_opened", "新开整改单", "Orders opened", "count", lambda k: k.rectification.opened),
    ("mean_hours_to_fix", "平均整改时长", "Mean time to fix", "hours", lambda k: k.rectification.mean_hours_to_fix),
    ("reopen_rate", "整改退回率", "Reopen rate", "rate", lambda k: k.rectification.reopen_rate),
]


def headline_figures(now: KpiFigures, before: KpiFigures) -> list[Figure]:
    return [
        Figure(key=key, zh=zh, en=en, kind=kind, value=get(now), previous=get(before))
        for key, zh, en, kind, get in HEADLINES
    ]


async def _kpis(
    conn: asyncpg.Connection, caller: Caller, property_id: str, period: ReportPeriod, now: datetime
) -> KpiFigures:
    return (await kpis.property_kpis(conn, caller, property_id, period.first, period.last, now)).totals


def _trend(month: str, k: KpiFigures) -> TrendMonth:
    return TrendMonth(
        month=month,
        completion_rate=k.rounds.completion_rate,
        visit_on_time_rate=k.visits.on_time_rate,
        pass_rate=k.items.pass_rate,
        rectification_on_time_rate=k.rectification.on_time_rate,
    )


def step_count(domains: Collection[str]) -> int:
    """How many steps gather_report reports (the worker adds its own after them)."""
    return 2 + TREND_MONTHS + 1 + ("surveys" in domains) + ("servicedesk" in domains)


async def _satisfaction(
    conn: asyncpg.Connection, caller: Caller, property_id: str, end: datetime, now: datetime
) -> Satisfaction | None:
    campaign = await campaigns.latest_closed(conn, caller, property_id, end, now)
    if campaign is None:
        return None
    report = await campaign_report(conn, caller.org_id, campaign.id)
    done = await actions.list_actions(conn, caller, campaign.id, now)
    names = {d.key: (d.name_zh, d.name_en) for d in report.dimensions}
    return Satisfaction(
        campaign_id=campaign.id,
        name_zh=campaign.name_zh,
        name_en=campaign.name_en,
        closes_at=campaign.closes_at,
        published=campaign.published_at is not None,
        responses=report.responses,
        invited=report.invited,
        response_rate=report.response_rate,
        score=report.overall_household_score,
        score_change=report.overall_household_score_change,
        satisfaction_rate=report.overall_satisfaction_rate,
        nps=report.nps,
        nps_change=report.nps_change,
        dimensions=[
            DimensionLine(
                key=d.key,
                name_zh=d.name_zh,
                name_en=d.name_en,
                score=d.household_score,
                change=d.household_score_change,
                satisfaction_rate=d.satisfaction_rate,
            )
            for d in report.dimensions
            if d.households  # a topic nobody rated (not asked by this survey) says nothing
        ],
        actions=[
            ActionLine(
                dimension=a.dimension,
                dimension_zh=names.get(a.dimension, (a.dimension, a.dimension))[0],
                dimension_en=names.get(a.dimension, (a.dimension, a.dimension))[1],
                title_zh=a.title_zh,
                title_en=a.title_en,
                due_at=a.due_at,
                status=a.status,
                done_at=a.done_at,
            )
            for a in done
        ],
    )


async def _nothing(_: str) -> None:
    return None


async def gather_report(
    conn: asyncpg.Connection,
    caller: Caller,
    property_id: str,
    period: ReportPeriod,
    now: datetime,
    domains: Collection[str],
    step: Step = _nothing,
) -> PropertyReport:
    """The report's figures, as `caller` may see them (the property's supervisors and admins), calling `step`
    after each of step_count(domains) steps (the job writes its progress there). `domains`: the registered
    plug-ins' names; the surveys' and the service desk's parts are left out when theirs is not."""
    prop = await places_sql.get_property(conn, caller.org_id, property_id)
    if prop is None:
        raise NotFound(f"property {property_id} not found", entity="property", id=property_id)
    require_started(period, prop["timezone"], now)
    before = previous(period)
    current = await _kpis(conn, caller, property_id, period, now)
    await step("kpis")
    earlier = await _kpis(conn, caller, property_id, before, now)
    await step("previous")
    trend = []
    for month in trend_months(period):
        # one use case call a month: the KPIs' own SQL, so the trend is what the KPI route says of each month
        trend.append(_trend(month.label, await _kpis(conn, caller, property_id, month, now)))
        await step(f"trend {month.label}")
    lines = await ledger_summary(conn, caller, property_id, period.first, period.last, now)
    orders = current.rectification
    ledger = Ledger(
        opened=orders.opened,
        fixed=orders.fixed,
        due=orders.due,
        due_on_time=orders.due_on_time,
        overdue=orders.due_not_handed_in,
        open=orders.open,
        on_time_rate=orders.on_time_rate,
        lines=lines,
    )
    await step("ledger")
    span = resolve_period(period.first, period.last, prop["timezone"], now)
    satisfaction = None
    if "surveys" in domains:
        satisfaction = await _satisfaction(conn, caller, property_id, span.end_utc, now)
        await step("satisfaction")
    desk = None
    if "servicedesk" in domains:
        desk = (await desk_totals(conn, caller, {property_id: span}, now))[property_id]
        await step("service desk")
    return PropertyReport(
        property_id=property_id,
        property_name=prop["name"],
        timezone=prop["timezone"],
        period=period,
        previous_period=before,
        made_at=now,
        figures=headline_figures(current, earlier),
        kpis=current,
        previous_kpis=earlier,
        trend=trend,
        ledger=ledger,
        satisfaction=satisfaction,
        service_desk=desk,
    )
