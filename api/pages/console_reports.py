"""The console's reports (section "reports"): a property's recent months and quarters, each with its report's
state; a button asks for one (or for a new version), the progress shows while the worker makes it (static/reports.js
polls its state; with JavaScript off a Refresh link), and the PDF downloads by cookie. The same use cases as
GET/POST /properties/{id}/reports/{period} (reports/service.py), the same stored bytes."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.deps import AppServices, Conn
from api.pages.console import console_page, property_home, property_in_view
from api.pages.formats import when
from api.pages.lang import lang_of
from api.pages.session import Manager
from api.routes.reports import ask_and_queue
from core.errors import NotFound
from core.tabular import attachment
from reports import service
from reports.periods import parse_period
from reports.service import ReportStatus
from reports.words import period_title


def reports_home(property_id: str) -> str:
    return f"{property_home(property_id)}/reports"


def _row(
    request: Request[Any, Any, Any], property_id: str, zone: str, label: str, found: ReportStatus | None
) -> dict[str, Any]:
    period = parse_period(label)
    zh, en = period_title(period)
    base = f"{reports_home(property_id)}/{label}"
    return {
        "period": label,
        "title": zh if lang_of(request) == "zh" else en,
        "span": f"{period.first.isoformat()} – {period.last.isoformat()}",
        "status": found.status if found else "none",
        "progress": found.progress if found else 0,
        "total": found.total if found else 0,
        "version": found.version if found else 0,
        "error": found.error if found else None,
        "finished": when(request, found.finished_at, zone) if found and found.finished_at else "",
        "size_kb": f"{(found.size_bytes or 0) / 1024:.0f}" if found else "",
        "pdf_url": f"{base}.pdf",
        "status_url": f"{base}.json",
    }


def _not_found(file: str) -> NotFound:
    return NotFound(f"no report {file}", entity="report", id=file)


class ConsoleReportPages(Controller):
    path = "/console/properties/{property_id:str}/reports"
    include_in_schema = False

    @get("/")
    async def reports(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Template:
        prop = await property_in_view(conn, manager, property_id)
        found = await service.recent(conn, manager, property_id, services.clock.now())
        rows = [_row(request, prop.id, prop.timezone, label, status) for label, status in found]
        context = {
            "rows": rows,
            "waiting": any(r["status"] in ("queued", "running") for r in rows),
            "refresh_url": reports_home(prop.id),
            "ask_url": reports_home(prop.id),
        }
        return console_page(request, services, manager, "console/reports.html", context, section="reports", prop=prop)

    @post("/", status_code=303)
    async def ask(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Redirect:
        """Ask for the report of the form's `period` (`again`: a new version of one made or failed)."""
        prop = await property_in_view(conn, manager, property_id)
        form = await request.form()
        label = str(form.get("period") or "").strip()
        asked = await ask_and_queue(services, manager, prop.id, label, again=form.get("again") == "1")
        return Redirect(f"{reports_home(prop.id)}#r-{asked.report.period}", status_code=303)

    @get("/{file:str}")
    async def report_file(
        self,
        property_id: FromPath[str],
        file: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Response[Any]:
        """`<period>.pdf`: the report's PDF (the stored bytes the API serves); `<period>.json`: its state, for
        static/reports.js."""
        prop = await property_in_view(conn, manager, property_id)
        label, dot, kind = file.rpartition(".")
        if not dot or kind not in ("pdf", "json"):
            raise _not_found(file)
        found = await service.look(conn, manager, prop.id, label, services.clock.now())
        if kind == "json":
            if found is None:
                raise _not_found(file)
            return Response(msgspec.to_builtins(found), media_type="application/json")
        if found is None or found.status != "done":
            raise _not_found(file)
        pdf = await service.pdf_bytes(conn, manager, services.store, found)
        disposition = attachment(service.filename(prop.id, label), service.filename(prop.name, label))
        return Response(pdf, media_type=service.MEDIA_TYPE, headers={"Content-Disposition": disposition})
