"""The property report (reports/): a month's or a quarter's PDF for the owners' committee and the company, made by
the worker. GET answers the PDF once made, else 202 with the job's state (and queues it); POST makes it again."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter

from api.deps import AppServices, CurrentCaller
from api.guards import SUPERVISOR, in_property_scope
from api.queue import enqueue
from bootstrap.services import Services
from core.access import Caller
from core.db import transaction
from core.tabular import attachment
from reports import service
from reports.service import Asked

Format = Annotated[
    Literal["pdf", "json"] | None,
    QueryParameter(description="pdf (default), or json: the report's figures (also with Accept: application/json)"),
]
JSON = "application/json"
PATH = "/properties/{property_id:str}/reports/{period:str}"
ABOUT = (
    "`period`: a local month YYYY-MM (2026-10) or a quarter YYYY-Qn (2026-Q4) in the property's time zone; one "
    "not begun yet, or not a period, is refused (422). The report: the inspection KPIs with the period before and "
    "the last 12 months' trend, the rectification ledger, the survey campaign that closed last by the period's "
    "end with its improvement actions, the service desk's totals (docs/reports.md). While the worker makes it, "
    "the answer is 202 with its state: status queued | running | failed, step `progress` of `total`."
)


def _domains(services: Services) -> set[str]:
    return {plugin.name for plugin in services.registry.plugins}


async def ask_and_queue(services: Services, caller: Caller, property_id: str, period: str, *, again: bool) -> Asked:
    """Ask for the report (reports.service.ask) in a transaction of its own, committed before the job is queued
    (the worker must find the row); the API and the console alike."""
    async with transaction(services.pool) as conn:
        asked = await service.ask(
            conn, caller, property_id, period, services.clock.now(), _domains(services), again=again
        )
    if asked.queue:
        await enqueue(
            services, service.JOB, caller.org_id, asked.report.id, job_id=service.job_id(caller.org_id, asked.report.id)
        )
    return asked


def _wants_json(request: Request[Any, Any, Any], format: str | None) -> bool:
    if format is not None:
        return format == "json"
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "application/pdf" not in accept


@get(
    PATH,
    guards=[in_property_scope, SUPERVISOR],
    tags=["reports"],
    summary="A property's monthly or quarterly report: the PDF once made, else 202 and its job's state",
    description=ABOUT,
    media_type=service.MEDIA_TYPE,
    content_media_type=service.MEDIA_TYPE,  # OpenAPI 3.1's word for binary content
    response_description="the PDF, as an attachment named <property id>-<period>-report.pdf; with format=json, "
    "the report's figures (PropertyReport)",
    responses={
        202: ResponseSpec(
            data_container=service.ReportStatus,
            description="not made yet: its state (queued, running with step `progress` of `total`, or failed)",
        )
    },
    response_headers=[
        ResponseHeader(
            name="Content-Disposition",
            description="attachment; <property>-<period>-report.pdf",
            documentation_only=True,
        )
    ],
)
async def property_report(
    request: Request[Any, Any, Any],
    property_id: FromPath[str],
    period: FromPath[str],
    caller: CurrentCaller,
    services: AppServices,
    format: Format = None,
) -> Response[Any]:
    asked = await ask_and_queue(services, caller, property_id, period, again=False)
    report = asked.report
    if report.status != "done":
        return Response(msgspec.to_builtins(report), status_code=202, media_type=JSON)
    async with transaction(services.pool) as conn:
        if _wants_json(request, format):
            return Response(msgspec.to_builtins(await service.figures(conn, caller, report)), media_type=JSON)
        name = await service.property_name(conn, caller.org_id, property_id)
        pdf = await service.pdf_bytes(conn, caller, services.store, report)
    headers = {
        "Content-Disposition": attachment(
            service.filename(property_id, report.period), service.filename(name, report.period)
        )
    }
    return Response(pdf, media_type=service.MEDIA_TYPE, headers=headers)


@post(
    PATH,
    guards=[in_property_scope, SUPERVISOR],
    tags=["reports"],
    summary="Make a property's monthly or quarterly report again (a new version); 202 and its job's state",
    description=ABOUT + " A report already queued or running is not asked for twice.",
    status_code=202,
)
async def regenerate_report(
    property_id: FromPath[str], period: FromPath[str], caller: CurrentCaller, services: AppServices
) -> service.ReportStatus:
    return (await ask_and_queue(services, caller, property_id, period, again=True)).report
