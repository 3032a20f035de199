"""The console's KPIs: a property's figures over a chosen period, the same numbers GET /properties/{id}/kpis gives
(the same use cases, composed the same way), each headline with its 12-month trend (core/charts.py), the per-staff
table sorted on the server by any column, per-item and per-location tables, and the records behind a figure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from api.deps import AppServices, Conn
from api.pages.console import console_page, property_home, property_in_view
from api.pages.console_board import records_page
from api.pages.lang import lang_of
from api.pages.render import wants_html
from api.pages.session import Manager
from api.pages.texts import translator
from core.charts import line_chart, nice_top
from core.errors import Invalid
from inspections import board, kpis
from inspections.kpi_months import MonthKpis, monthly_kpis
from inspections.kpis import StaffKpis
from servicedesk.kpis import desk_totals

Text = Annotated[str | None, QueryParameter(required=False)]
From = Annotated[str | None, QueryParameter(name="from", required=False)]
Direction = Annotated[str | None, QueryParameter(name="dir", required=False)]

# A headline: its key (console.kpis.figure.<key>), where it is in the API's answer, its unit ("%" for a rate shown
# as a percentage, "h" for hours) and the list behind it ((rounds|orders|evidence, filter) or None).
HEADLINES: tuple[tuple[str, str, str, tuple[str, str] | None], ...] = (
    ("completion", "rounds.completion_rate", "%", ("rounds", "missed")),
    ("visits_on_time", "visits.on_time_rate", "%", ("rounds", "due")),
    ("pass", "items.pass_rate", "%", None),
    ("orders_on_time", "rectification.on_time_rate", "%", ("orders", "due_not_handed_in")),
    ("reopen", "rectification.reopen_rate", "%", ("orders", "reopened")),
    ("review_hours", "reviews.mean_review_hours", "h", None),
    ("flag_rate", "evidence.flag_rate", "%", ("evidence", "open")),
)
DESK_HEADLINES = (
    ("desk_received", "intake.received", ""),
    ("desk_respond", "response.on_time_rate", "%"),
    ("desk_resolve", "resolution.on_time_rate", "%"),
)
# the per-staff table's columns: (key, where in StaffKpis, unit); sortable by any
STAFF_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("name", "name", ""),
    ("rounds_due", "rounds.due", ""),
    ("completion", "rounds.completion_rate", "%"),
    ("visits_on_time", "visits.on_time_rate", "%"),
    ("judged", "items.judged", ""),
    ("pass", "items.pass_rate", "%"),
    ("orders_due", "rectification.due", ""),
    ("orders_on_time", "rectification.on_time_rate", "%"),
    ("reviews", "reviews.reviews", ""),
    ("evidence_items", "evidence.items", ""),
    ("flags", "evidence.flags", ""),
    ("flag_rate", "evidence.flag_rate", "%"),
)
TREND_MONTHS = 12
CHART_WIDTH = 480  # two a row on a desk; on a phone console.css writes its words larger


def pick(figures: Any, where: str) -> Any:
    """The figure at a dotted path of a Struct ('rounds.completion_rate')."""
    for name in where.split("."):
        figures = getattr(figures, name)
    return figures


def shown(value: Any, unit: str, lang: str = "en") -> str:
    """A figure as the page writes it: rates as percentages to one decimal, hours to one decimal, — for none."""
    if value is None:
        return "—"
    if unit == "%":
        return f"{value * 100:.1f}%"
    if unit == "h":
        return f"{value:.1f} {'小时' if lang == 'zh' else 'h'}"
    return str(value)


def presets(today: date) -> list[tuple[str, date, date]]:
    """The period form's presets: this month, last month, this quarter, the last 12 months (to today)."""
    month = today.replace(day=1)
    last_month_end = month - timedelta(days=1)
    quarter = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    year_ago = (month.replace(year=month.year - 1) + timedelta(days=32)).replace(day=1)
    return [
        ("this_month", month, today),
        ("last_month", last_month_end.replace(day=1), last_month_end),
        ("this_quarter", quarter, today),
        ("last_12_months", year_ago, today),
    ]


def sort_staff(rows: list[StaffKpis], column: str, descending: bool) -> list[StaffKpis]:
    """By a column of STAFF_COLUMNS; people without a figure there last, either way."""
    where = dict((key, path) for key, path, _ in STAFF_COLUMNS)[column]
    known = [r for r in rows if pick(r, where) is not None]
    unknown = [r for r in rows if pick(r, where) is None]
    return sorted(known, key=lambda r: pick(r, where), reverse=descending) + unknown


def trend_charts(months: list[MonthKpis], t: Callable[..., str]) -> list[dict[str, Any]]:
    charts = []
    for key, where, unit, _ in HEADLINES:
        values = [pick(m.totals, where) for m in months]
        scaled = [None if v is None else (v * 100 if unit == "%" else v) for v in values]
        points = [(m.month.strftime("%Y-%m"), v) for m, v in zip(months, scaled, strict=True)]
        title = t("console.kpis.trend", figure=t(f"console.kpis.figure.{key}"))
        top = 100.0 if unit == "%" else nice_top(scaled)
        svg = line_chart(points, title=title, unit="%" if unit == "%" else "", top=top, width=CHART_WIDTH)
        charts.append({"key": key, "where": where, "unit": unit, "svg": svg, "values": values, "title": title})
    return charts


class ConsoleKpiPages(Controller):
    path = "/console/properties/{property_id:str}/kpis"
    include_in_schema = False

    @get("/")
    async def kpis(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
        from_: From = None,
        to: Text = None,
        sort: Text = None,
        direction: Direction = None,
    ) -> Template:
        prop = await property_in_view(conn, manager, property_id)
        now = services.clock.now()
        lang = lang_of(request)
        t = translator(lang)
        today = now.astimezone(ZoneInfo(prop.timezone)).date()
        context: dict[str, Any] = {
            "base": property_home(prop.id),
            "presets": presets(today),
            "asked": {"from": from_ or "", "to": to or ""},
            "problem": None,
        }
        try:
            found = await kpis.property_kpis(conn, manager, property_id, from_, to, now)
        except Invalid as refused:
            if not wants_html(request):  # an API client: problem+json, as the API answers
                raise
            # (the field's label key, the message): "from" and "to" are the form's own fields
            context["problem"] = [(f"console.kpis.{e.field}", e.message) for e in refused.errors] or [
                ("", refused.detail)
            ]
            return console_page(
                request, services, manager, "console/kpis.html", context, section="kpis", prop=prop, status=422
            )
        desk = None
        if services.registry.has("servicedesk"):
            desk = (await desk_totals(conn, manager, {property_id: found.period}, now))[property_id]
        months = await monthly_kpis(conn, manager, property_id, found.period.to, now, months=TREND_MONTHS)
        column = sort if sort in {key for key, _, _ in STAFF_COLUMNS} else "name"
        descending = direction == "desc"
        period = {"from": found.period.from_.isoformat(), "to": found.period.to.isoformat()}
        context |= {
            "found": found,
            "period": period,
            "headlines": [
                {"key": k, "where": w, "unit": u, "value": pick(found.totals, w), "behind": b}
                for k, w, u, b in HEADLINES
            ],
            "desk": None
            if desk is None
            else [{"key": k, "where": w, "unit": u, "value": pick(desk.totals, w)} for k, w, u in DESK_HEADLINES],
            "charts": trend_charts(months, t),
            "months": months,
            "staff": sort_staff(found.by_staff, column, descending),
            "staff_columns": STAFF_COLUMNS,
            "sort": column,
            "descending": descending,
            "shown": lambda value, unit: shown(value, unit, lang),
            "pick": pick,
            "raw": lambda value: "" if value is None else repr(value),
        }
        return console_page(request, services, manager, "console/kpis.html", context, section="kpis", prop=prop)

    @get("/orders")
    async def orders(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
        from_: From = None,
        to: Text = None,
        figure: Text = None,
    ) -> Template:
        """The orders a rectification figure of the period counts (e.g. due and not handed in)."""

        async def find(now: datetime) -> board.OrderList:
            return await board.orders_behind(conn, manager, property_id, from_, to, now, shown=figure or "due")

        where = ("kpis", "console/kpis_orders.html", "console.kpis.orders.title")
        return await records_page(request, services, manager, conn, property_id, where, find)
