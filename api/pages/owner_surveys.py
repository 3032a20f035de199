"""The published results of the owner's properties' surveys (what surveys.actions.publish gives owners: response
rate, overall score, satisfaction, NPS, scores by topic) and the improvement actions as they stand, due dates in
the property's zone. The rows are surveys.owner_view's (the read rules of surveys/synced.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from api.deps import AppServices, Conn
from api.pages.formats import when
from api.pages.lang import lang_of
from api.pages.owner import HOME, owner_page
from api.pages.session import Owner
from surveys.owner_view import OwnerResults, published_results


def _number(value: float | None, places: int = 2) -> str:
    return "—" if value is None else f"{value:.{places}f}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _view(request: Request[Any, Any, Any], found: OwnerResults) -> dict[str, Any]:
    english = lang_of(request) == "en"
    report, zone = found.results.report, found.time_zone
    names = {d.key: d.name_en if english else d.name_zh for d in report.dimensions}
    return {
        "name": found.results.name_en if english else found.results.name_zh,
        "property": found.property_name,
        "published": when(request, found.results.published_at, zone, with_time=False),
        "responses": report.responses,
        "invited": report.invited,
        "response_rate": _percent(report.response_rate),
        "overall": _number(report.overall_household_score),
        "satisfied": _percent(report.overall_satisfaction_rate),
        "nps": "—" if report.nps is None else str(report.nps),
        "dimensions": [
            {
                "name": names[d.key],
                "score": _number(d.household_score),
                "satisfied": _percent(d.satisfaction_rate),
                "flagged": d.flagged,
            }
            for d in report.dimensions
            if d.households  # a topic no household rated (not in this survey) says nothing
        ],
        "actions": [
            {
                "title": a.title_en if english else a.title_zh,
                "dimension": names.get(a.dimension, a.dimension),
                "done": a.status == "done",
                "due": when(request, a.due_at, zone, with_time=False),
                "done_at": when(request, a.done_at, zone, with_time=False),
            }
            for a in found.actions
        ],
    }


class OwnerSurveyPages(Controller):
    path = f"{HOME}/surveys"
    include_in_schema = False

    @get("/")
    async def results(
        self, request: Request[Any, Any, Any], owner: Owner, conn: Conn, services: AppServices
    ) -> Template:
        found = await published_results(conn, owner)
        context = {"results": [_view(request, r) for r in found]}
        return owner_page(request, services, "owner/surveys.html", "surveys", context, heading="owner.surveys.title")
