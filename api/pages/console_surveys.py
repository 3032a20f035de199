"""The console's survey campaigns: a property's campaigns, a campaign's report as charts with what can be done
about it (the printable slips, exports, improvement actions, publishing), on the surveys domain's use cases.
Slips and exports are the API's own (api/routes/surveys.py), served for the console's cookie."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from api.deps import AppServices, Conn
from api.pages import console_survey_report as shown
from api.pages.console import HOME, console_page, property_home, property_in_view
from api.pages.formats import when
from api.pages.lang import lang_of
from api.pages.session import Manager
from api.pages.texts import in_lang, translator
from api.routes.surveys import open_survey_order, serve_export, serve_slips
from bootstrap.services import Services
from core.access import Caller
from core.errors import FieldError, Invalid
from core.ids import new_id
from core.people import service as people
from surveys import actions, campaigns
from surveys.report import campaign_report
from surveys.schemas import ActionDone, ActionsCreate
from surveys.templates import kept_version

LISTED = 100  # campaigns listed (two a year: fifty years)
ACTION_FIELDS = ("id", "kind", "dimension", "title_zh", "title_en", "due_at", "responsible_id")


def surveys_home(property_id: str) -> str:
    return property_home(property_id) + "/surveys"


def campaign_page(campaign_id: str) -> str:
    return f"{HOME}/campaigns/{campaign_id}"


async def render_campaign(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    services: Services,
    manager: Caller,
    campaign_id: str,
    *,
    action_errors: list[str] | None = None,
    action_form: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    now = services.clock.now()
    campaign = await campaigns.get_campaign(conn, manager, campaign_id, now)
    prop = await property_in_view(conn, manager, campaign.property_id)
    report = await campaign_report(conn, manager.org_id, campaign_id)
    template = await kept_version(conn, manager.org_id, campaign.template_version_id)
    assert template is not None
    made = await actions.list_actions(conn, manager, campaign_id, now)
    lang = lang_of(request)
    t = translator(lang)
    zone = prop.timezone
    names = {d.key: d.name_zh if lang == "zh" else d.name_en for d in report.dimensions}
    admin = manager.is_admin
    context = {
        "campaign": campaign,
        "title": campaign.name_zh if lang == "zh" else campaign.name_en,
        "opens": when(request, campaign.opens_at, zone),
        "closes": when(request, campaign.closes_at, zone),
        "published": when(request, campaign.published_at, zone),
        "report": report,
        "figures": shown.figures(report, t),
        "dimensions": shown.dimensions(report, lang),
        "charts": shown.charts(report, template, t, lang),
        "channels": [(c, report.channels.get(c, 0)) for c in ("link", "app", "phone", "visit")],
        "buildings": [(b, shown.percent(b.rate)) for b in report.buildings],
        "actions": [
            {
                "action": a,
                "title": a.title_zh if lang == "zh" else a.title_en,
                "dimension": names.get(a.dimension, a.dimension),
                "due": when(request, a.due_at, zone),
                "done": when(request, a.done_at, zone),
            }
            for a in made
        ],
        "flagged": [(key, names.get(key, key)) for key in report.flagged],
        "people": await people.property_staff(conn, manager, prop.id) if admin else [],
        "me": manager.user_id,
        "may_admin": admin,
        "action_errors": action_errors or [],
        "action_form": {**dict.fromkeys(ACTION_FIELDS, ""), "id": new_id(), "kind": "action", **(action_form or {})},
        "notice": request.query_params.get("done", ""),
        "home": surveys_home(prop.id),
    }
    return console_page(
        request,
        services,
        manager,
        "console/campaign.html",
        context,
        section="surveys",
        prop=prop,
        heading="console.surveys.campaign",
        status=status,
    )


def _actions_from_form(form: Any, zone: str) -> ActionsCreate:
    """The improvement action a console form adds (one at a time), its deadline given in the property's zone."""
    due_text = str(form.get("due_at") or "")
    try:
        due = datetime.fromisoformat(due_text).replace(tzinfo=ZoneInfo(zone)) if due_text else None
    except ValueError:
        due = None
    if due is None:
        raise Invalid("the deadline is missing / 请填写截止时间", [FieldError(field="due_at", message="required")])
    given = {
        "kind": form.get("kind") or "action",
        "title_zh": (form.get("title_zh") or "").strip(),
        "title_en": (form.get("title_en") or "").strip(),
        "due_at": due.isoformat(),
        "responsible_id": form.get("responsible_id") or None,
        "id": form.get("id") or None,
    }
    try:
        return msgspec.convert({"dimension": form.get("dimension") or "", "actions": [given]}, ActionsCreate)
    except msgspec.ValidationError as refused:
        raise Invalid(f"{refused} / 请检查填写内容", [FieldError(field="action", message=str(refused))]) from None


class ConsoleSurveyPages(Controller):
    path = HOME
    include_in_schema = False

    @get("/properties/{property_id:str}/surveys")
    async def campaigns_of_property(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Template:
        prop = await property_in_view(conn, manager, property_id)
        rows = await campaigns.recent_campaigns(conn, manager, property_id, services.clock.now(), LISTED)
        lang = lang_of(request)
        listed = [
            {
                "campaign": r.campaign,
                "name": r.campaign.name_zh if lang == "zh" else r.campaign.name_en,
                "opens": when(request, r.campaign.opens_at, prop.timezone),
                "closes": when(request, r.campaign.closes_at, prop.timezone),
                "rate": shown.percent(r.response_rate),
                "href": campaign_page(r.campaign.id),
            }
            for r in rows
        ]
        return console_page(
            request,
            services,
            manager,
            "console/surveys.html",
            {"campaigns": listed, "more": len(rows) == LISTED},
            section="surveys",
            prop=prop,
        )

    @get("/campaigns/{campaign_id:str}")
    async def campaign(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Template:
        return await render_campaign(request, conn, services, manager, campaign_id)

    @get("/campaigns/{campaign_id:str}/slips")
    async def slips(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
        building_id: Annotated[str | None, QueryParameter()] = None,
        unanswered: Annotated[bool, QueryParameter()] = False,
    ) -> Response[bytes]:
        return await serve_slips(request, conn, services, manager, campaign_id, building_id, unanswered)

    @get("/campaigns/{campaign_id:str}/export")
    async def export(
        self,
        campaign_id: FromPath[str],
        manager: Manager,
        services: AppServices,
        format: Annotated[Literal["csv", "xlsx"], QueryParameter()] = "xlsx",
    ) -> Response[Any]:
        return await serve_export(services, manager, campaign_id, format)

    @post("/campaigns/{campaign_id:str}/publish", status_code=303)
    async def publish(
        self, campaign_id: FromPath[str], manager: Manager, conn: Conn, services: AppServices
    ) -> Redirect:
        await actions.publish(conn, manager, campaign_id, services.clock.now())
        return Redirect(f"{campaign_page(campaign_id)}?done=published", status_code=303)

    @post("/campaigns/{campaign_id:str}/actions", status_code=303)
    async def add_action(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Response[Any]:
        form = await request.form()
        now = services.clock.now()
        found = await campaigns.get_campaign(conn, manager, campaign_id, now)
        prop = await property_in_view(conn, manager, found.property_id)
        kept = {key: str(form.get(key) or "") for key in ACTION_FIELDS}
        lang = lang_of(request)
        try:
            data = _actions_from_form(form, prop.timezone)
            async with conn.transaction():  # a refusal leaves nothing half made
                await actions.create_actions(conn, manager, campaign_id, data, now, open_survey_order)
        except Invalid as invalid:
            errors = [in_lang(invalid.detail, lang)]
            errors += [f"{e.field}: {in_lang(e.message, lang)}" for e in invalid.errors]
            return await render_campaign(
                request, conn, services, manager, campaign_id, action_errors=errors, action_form=kept, status=422
            )
        return Redirect(f"{campaign_page(campaign_id)}?done=action#actions", status_code=303)

    @post("/survey-actions/{action_id:str}/done", status_code=303)
    async def action_done(
        self,
        request: Request[Any, Any, Any],
        action_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Redirect:
        form = await request.form()
        note = str(form.get("note") or "").strip() or None
        done = await actions.complete_action(conn, manager, action_id, ActionDone(note=note), services.clock.now())
        return Redirect(f"{campaign_page(done.campaign_id)}?done=action_done#actions", status_code=303)
