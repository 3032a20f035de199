"""The service desk's figures: a property's KPIs over a period, and its ledger (台账) of tickets as CSV or XLSX.
Its supervisors and admins. Every formula: docs/service-desk.md ("KPIs", "Ledger (台账)")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from api.deps import AppServices, Conn, CurrentCaller
from api.guards import SUPERVISOR, in_property_scope
from api.routes.kpis import From, To
from core.db import acquire
from core.tabular import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from servicedesk import kpis, ledger
from servicedesk.kpis import PropertyDeskKpis

LedgerFormat = Annotated[Literal["csv", "xlsx"], QueryParameter(description="csv (streamed) or xlsx (default)")]
LedgerLang = Annotated[
    Literal["zh", "en"], QueryParameter(description="the headings' and the words' language (default zh)")
]

KPIS = (
    "The period is local days in the property's time zone, both ends included, at most 3 years (default: the 30 "
    "days up to today); figures are as of its end, or now when it has not ended. A rate whose denominator is 0 is "
    "null. Timeliness counts every ticket whose first promise fell due in the period, the open overdue ones too, "
    "judged against the first promise (never an extended one): response.on_time_rate (报修响应及时率 in by_kind "
    "repair) = answered by the first promised response time / due; resolution.on_time_rate (投诉处理及时率 in "
    "by_kind complaint) = first resolved by the first promised resolution time / due; "
    "resolution.first_time_fix_rate (维修合格率) = first resolved in the period and never reopened / first resolved "
    "in the period; visits.visit_coverage = closed after a return visit / closed; complaints_per_100_households = "
    "complaints received / units × 100; intake.repeats: received with an earlier ticket (not declined) of the same "
    "unit and category in the 30 days before. Every formula: docs/service-desk.md."
)


@get(
    "/properties/{property_id:str}/service-desk/kpis",
    guards=[in_property_scope, SUPERVISOR],
    tags=["service desk"],
    summary="A property's service desk KPIs over a period, with breakdowns and monthly counts (supervisors, admins)",
    description=KPIS,
)
async def desk_kpis(
    property_id: FromPath[str],
    caller: CurrentCaller,
    conn: Conn,
    services: AppServices,
    from_: From = None,
    to: To = None,
) -> PropertyDeskKpis:
    return await kpis.property_desk_kpis(conn, caller, property_id, from_, to, services.clock.now())


@get(
    "/properties/{property_id:str}/service-desk/ledger",
    guards=[in_property_scope, SUPERVISOR],
    tags=["service desk"],
    summary="The ledger (台账) of the tickets received in a period, as CSV or XLSX (supervisors, admins)",
    description="One row per ticket received in the period (local days in the property's time zone, as the KPIs "
    "take them), in the order received; times are the property's wall-clock times; zh or en headings and words. "
    "Late flags are as of now, against the first promises. The CSV is UTF-8 with a BOM and streamed.",
    responses={
        200: ResponseSpec(
            data_container=bytes,
            media_type=XLSX_MEDIA_TYPE,
            generate_examples=False,
            description="the workbook; with format=csv, text/csv; charset=utf-8 instead",
        )
    },
)
async def desk_ledger(
    property_id: FromPath[str],
    caller: CurrentCaller,
    services: AppServices,
    from_: From = None,
    to: To = None,
    format: LedgerFormat = "xlsx",
    lang: LedgerLang = "zh",
) -> Response[Any]:
    now = services.clock.now()
    # a connection of its own, not the request's: the ledger reads in a REPEATABLE READ transaction of its own
    async with acquire(services.pool) as conn:
        period = await kpis.supervised_period(conn, caller, property_id, from_, to, now)
    headers = {"Content-Disposition": ledger.content_disposition(property_id, period, lang, format)}
    org_id = caller.org_id
    if format == "csv":
        chunks = ledger.csv_chunks(services.pool, org_id, property_id, period, lang, now)
        return Stream(chunks, media_type=CSV_MEDIA_TYPE, headers=headers)
    content = await ledger.xlsx_bytes(services.pool, org_id, property_id, period, lang, now)
    return Response(content, media_type=XLSX_MEDIA_TYPE, headers=headers)
