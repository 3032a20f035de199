"""KPIs: one property's inspection figures in detail, and the totals of every property the caller supervises;
each beside its service desk totals (`service_desk`). The two domains never meet: the answer is composed here.
The service desk's own detail is GET /properties/{id}/service-desk/kpis (api/routes/ticket_reports.py)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import get
from litestar.params import FromPath, QueryParameter

from api.deps import AppServices, Conn, CurrentCaller
from api.guards import SUPERVISOR, in_property_scope
from core.structs import Frozen
from inspections import kpis
from inspections.kpis import PropertyKpis, PropertyKpiTotals
from servicedesk.kpis import DeskTotals, desk_totals


class PropertyKpisWithDesk(PropertyKpis, frozen=True, kw_only=True):
    """The property's inspection KPIs, and its service desk totals over the same local days."""

    service_desk: DeskTotals


class PropertyTotalsWithDesk(PropertyKpiTotals, frozen=True, kw_only=True):
    """A property's inspection totals, and its service desk totals over the same local days."""

    service_desk: DeskTotals


class OrgKpisWithDesk(Frozen, frozen=True):
    """The totals of each property the caller can see, each over the same local dates in its own time zone."""

    properties: list[PropertyTotalsWithDesk]


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
    "the supervisors' review delay are figures of their own. Every formula: docs/inspections.md. "
    'service_desk: the service desk\'s totals over the same days (docs/service-desk.md, "KPIs").'
)


@get(
    "/properties/{property_id:str}/kpis",
    guards=[in_property_scope, SUPERVISOR],
    tags=["inspections", "service desk"],
    summary="A property's inspection KPIs and service desk totals over a period (its supervisors and admins)",
    description=PERIOD,
)
async def property_kpis(
    property_id: FromPath[str],
    caller: CurrentCaller,
    conn: Conn,
    services: AppServices,
    from_: From = None,
    to: To = None,
) -> PropertyKpisWithDesk:
    now = services.clock.now()
    found = await kpis.property_kpis(conn, caller, property_id, from_, to, now)
    desk = await desk_totals(conn, caller, {property_id: found.period}, now)
    return PropertyKpisWithDesk(**msgspec.structs.asdict(found), service_desk=desk[property_id])


@get(
    "/kpis",
    guards=[SUPERVISOR],
    tags=["inspections", "service desk"],
    summary="Inspection and service desk KPI totals of each property you supervise (admins: all of the org's)",
    description=PERIOD,
)
async def org_kpis(
    caller: CurrentCaller, conn: Conn, services: AppServices, from_: From = None, to: To = None
) -> OrgKpisWithDesk:
    now = services.clock.now()
    found = await kpis.org_kpis(conn, caller, from_, to, now)
    desk = await desk_totals(conn, caller, {p.property_id: p.period for p in found.properties}, now)
    return OrgKpisWithDesk(
        properties=[
            PropertyTotalsWithDesk(**msgspec.structs.asdict(p), service_desk=desk[p.property_id])
            for p in found.properties
        ]
    )
