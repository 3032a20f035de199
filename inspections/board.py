"""What a property's inspections are right now, for its supervisors (the console's board), and the records behind
a KPI figure (its drill-down). A round's standing: planned, in progress, late (planned or walking with its window
closed: inspections/repository/board.py LATE), completed or missed."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import asyncpg

from core.access import Caller, require_property, require_role, supervised_zone, visible_property_ids
from core.errors import FieldError, Invalid
from core.periods import KpiPeriod, resolve_period
from core.structs import Frozen
from inspections.rectification import is_overdue
from inspections.repository import board as sql

STANDINGS = tuple(sql.STANDINGS)
ROUND_FILTERS = tuple(sql.ROUND_FILTERS)
ORDER_FILTERS = tuple(sql.ORDER_FILTERS)


class RoundLine(Frozen, frozen=True):
    id: str
    status: str
    standing: str
    window_start: datetime | None
    window_end: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    assignee_id: str
    assignee_name: str | None
    route_id: str | None
    route_name: str | None
    template_zh: str | None
    template_en: str | None


class OrderLine(Frozen, frozen=True):
    id: str
    location: str | None
    category: str
    description: str
    severity: str
    status: str
    due_at: datetime | None
    original_due_at: datetime | None
    submitted_at: datetime | None
    created_at: datetime
    responsible_id: str | None
    responsible_name: str | None
    overdue: bool


class RoundList(Frozen, frozen=True):
    """The period's rounds by standing (every standing, 0 when none), and those matching `shown` (at most
    `limit`; `more` when there are others)."""

    period: KpiPeriod
    standings: dict[str, int]
    shown: str
    rounds: list[RoundLine]
    more: bool


class OpenOrders(Frozen, frozen=True):
    """The orders not verified (total), by deadline, the overdue first; overdue: past the deadline in force;
    submitted: awaiting a verdict."""

    total: int
    overdue: int
    submitted: int
    orders: list[OrderLine]


class OrderSummary(Frozen, frozen=True):
    total: int = 0
    overdue: int = 0
    submitted: int = 0


class OrderList(Frozen, frozen=True):
    period: KpiPeriod
    shown: str
    orders: list[OrderLine]
    more: bool


async def _period(
    conn: asyncpg.Connection,
    caller: Caller,
    property_id: str,
    from_: date | str | None,
    to: date | str | None,
    now: datetime,
    *,
    today: bool = False,
) -> KpiPeriod:
    """The period asked for; neither end given: the KPIs' default, or with `today`, today in the property's zone."""
    zone = await supervised_zone(conn, caller, property_id)
    if today and from_ is None and to is None:
        from_ = to = now.astimezone(ZoneInfo(zone)).date()
    return resolve_period(from_, to, zone, now)


def _choice(value: str, allowed: tuple[str, ...], parameter: str) -> str:
    if value not in allowed:
        raise Invalid(
            f"{parameter} is not one of {', '.join(allowed)} / {parameter} 取值无效",
            [FieldError(field=parameter, message=f"one of {', '.join(allowed)}")],
        )
    return value


def _order_line(row: asyncpg.Record, now: datetime) -> OrderLine:
    overdue = is_overdue(row["status"], row["due_at"], now)
    return OrderLine(**{name: row[name] for name in OrderLine.__struct_fields__ if name != "overdue"}, overdue=overdue)


async def property_rounds(
    conn: asyncpg.Connection,
    caller: Caller,
    property_id: str,
    from_: date | str | None,
    to: date | str | None,
    now: datetime,
    *,
    shown: str = "all",
    limit: int = 200,
) -> RoundList:
    """The rounds of a period of local days (default: today) by standing now, and the list of those `shown`
    (a standing, `due` or `all`). For the property's supervisors and admins."""
    shown = _choice(shown, ROUND_FILTERS, "status")
    period = await _period(conn, caller, property_id, from_, to, now, today=True)
    span = (caller.org_id, property_id, period.start_utc, period.end_utc, now)
    counted = await sql.round_standings(conn, *span)
    rows = await sql.listed(conn, sql.ROUNDS_SQL[shown], *span, limit + 1)
    return RoundList(
        period=period,
        standings={name: counted.get(name, 0) for name in STANDINGS},
        shown=shown,
        rounds=[RoundLine(**dict(r)) for r in rows[:limit]],
        more=len(rows) > limit,
    )


async def open_orders(
    conn: asyncpg.Connection, caller: Caller, property_id: str, now: datetime, *, limit: int = 20
) -> OpenOrders:
    """The property's orders not verified, by deadline (overdue first). For its supervisors and admins."""
    await require_property(conn, caller, property_id, "supervise")
    rows = await sql.open_orders(conn, caller.org_id, property_id, now, limit)
    first = rows[0] if rows else None
    return OpenOrders(
        total=first["total"] if first else 0,
        overdue=first["overdue"] if first else 0,
        submitted=first["submitted"] if first else 0,
        orders=[_order_line(r, now) for r in rows],
    )


async def orders_behind(
    conn: asyncpg.Connection,
    caller: Caller,
    property_id: str,
    from_: date | str | None,
    to: date | str | None,
    now: datetime,
    *,
    shown: str,
    limit: int = 200,
) -> OrderList:
    """The orders a rectification KPI figure of the period counts (`shown`: a figure of OrderKpis' counts)."""
    shown = _choice(shown, ORDER_FILTERS, "figure")
    period = await _period(conn, caller, property_id, from_, to, now)
    span = (caller.org_id, property_id, period.start_utc, period.end_utc, now)
    rows = await sql.listed(conn, sql.ORDERS_SQL[shown], *span, limit + 1)
    return OrderList(
        period=period, shown=shown, orders=[_order_line(r, now) for r in rows[:limit]], more=len(rows) > limit
    )


async def order_summaries(
    conn: asyncpg.Connection, caller: Caller, property_ids: list[str], now: datetime
) -> dict[str, OrderSummary]:
    """Of each property the caller supervises among `property_ids`: its orders not verified, overdue and awaiting
    a verdict (the properties list's figures; others are left out)."""
    require_role(caller, "admin", "supervisor")
    visible = await visible_property_ids(conn, caller)
    wanted = [p for p in property_ids if visible is None or p in visible]
    rows = await sql.order_summaries(conn, caller.org_id, wanted, now)
    found = {
        r["property_id"]: OrderSummary(total=r["total"], overdue=r["overdue"], submitted=r["submitted"]) for r in rows
    }
    return {p: found.get(p, OrderSummary()) for p in wanted}
