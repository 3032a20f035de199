"""Inspection KPIs: one property's in detail, and the totals of every property the caller supervises."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import FromPath, QueryParameter

from api.deps import AppServices, Conn, CurrentCaller
from api.guards import SUPERVISOR, in_property_scope
from inspections import kpis
from inspections.kpis import OrgKpis, PropertyKpis

# `from` is a Python keyword: the handler's name for it is from_. Both are read as text and parsed by the use case,
# so a malformed date is refused naming the query parameter (Litestar's own refusal would name `from_`).
From = Annotated[
    str | None,
    QueryParameter(
        name="from",
        format="date",
        description="first local day of the period, YYYY-MM-DD (default: 29 days before `to`)",
    ),
]
To = Annotated[
    str | None,
    QueryParameter(format="date", description="last local day of the period, included, YYYY-MM-DD (default: today)"),
]
PERIOD = (
    "The period is local days in each property's time zone, both ends included; at most 3 years. "
    "A rate whose denominator is 0 is null. Rectification: on_time_rate = orders handed in by their first "
    "deadline / every order whose first deadline fell in the period (open and overdue ones too); time to fix and "
    "the supervisors' review delay are figures of their own. Every formula: docs/inspections.md."
)


@get(
    "/properties/{property_id:str}/kpis",
    guards=[in_property_scope, SUPERVISOR],
    tags=["inspections"],
    summary="A property's inspection KPIs over a period (its supervisors and admins)",
    description=PERIOD,
)
async def property_kpis(
    property_id: FromPath[str],
    caller: CurrentCaller,
    conn: Conn,
    services: AppServices,
    from_: From = None,
    to: To = None,
) -> PropertyKpis:
    return await kpis.property_kpis(conn, caller, property_id, from_, to, services.clock.now())


@get(
    "/kpis",
    guards=[SUPERVISOR],
    tags=["inspections"],
    summary="Inspection KPI totals of each property you supervise (admins: all of the org's)",
    description=PERIOD,
)
async def org_kpis(
    caller: CurrentCaller, conn: Conn, services: AppServices, from_: From = None, to: To = None
) -> OrgKpis:
    return await kpis.org_kpis(conn, caller, from_, to, services.clock.now())
