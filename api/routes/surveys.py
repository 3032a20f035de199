"""Owner satisfaction surveys: templates (admins), campaigns per property, every household's link, the report,
improvement actions and publishing the results; and the link itself, which an owner opens without signing in
(the token is the credential). Owners answering in the app do it through sync (surveys/app_answers.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter
from litestar.response import Stream, Template
from msgspec import UnsetType

from api.auth import PUBLIC
from api.deps import AppServices, Conn, CurrentCaller, Cursor, PageLimit
from api.edge import client_address
from api.guards import ADMIN, SUPERVISOR, in_property_scope
from api.pages import survey as survey_page
from api.pages.render import wants_html
from bootstrap.services import Services
from core import throttle
from core.access import Caller
from core.db import acquire
from core.errors import Conflict
from core.structs import Page
from core.tabular import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from inspections import rectification
from inspections.schemas_work import OrderCreate
from surveys import actions, campaigns, slips, staff_answers, templates
from surveys import export as exports
from surveys.actions import OrderWanted
from surveys.models import SurveyTemplateIn
from surveys.report import campaign_report
from surveys.schemas import (
    ActionDone,
    ActionsCreate,
    Answers,
    Campaign,
    CampaignCreate,
    ImprovementAction,
    InvitationLink,
    Published,
    StaffAnswers,
    Submitted,
    SurveyForm,
    SurveyTemplateVersion,
)
from surveys.scoring import Report

ExportFormat = Annotated[Literal["csv", "xlsx"], QueryParameter(description="csv (responses) or xlsx (default)")]
Token = Annotated[str, PathParameter(min_length=16, max_length=64, description="the token of a household's link")]


async def open_survey_order(conn: asyncpg.Connection, caller: Caller, wanted: OrderWanted, now: datetime) -> None:
    """An improvement action's rectification order, opened through the inspections package's own rules."""
    data = OrderCreate(
        description=wanted.description,
        category=wanted.category,
        severity=wanted.severity,
        responsible_id=wanted.responsible_id,
        due_at=wanted.due_at,
    )
    order = await rectification.create_order(
        conn, caller, wanted.property_id, data, now, source="survey", order_id=wanted.id
    )
    if order.source != "survey" or order.property_id != wanted.property_id:  # the id was an order of its own
        raise Conflict(f"id {wanted.id} is taken by another order", code="id_taken", id=wanted.id)


async def serve_slips(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    services: Services,
    caller: Caller,
    campaign_id: str,
    building_id: str | None,
    unanswered: bool,
) -> Response[bytes]:
    """The campaign's printable slips (admins of its property), for the API's bearer token or the console's
    cookie alike."""
    settings = services.settings
    sheet = await slips.campaign_slips(
        conn,
        caller,
        campaign_id,
        secret=settings.secret_key or "",
        base_url=settings.public_base or str(request.base_url).rstrip("/"),
        now=services.clock.now(),
        building_id=building_id,
        unanswered=unanswered,
    )
    headers = {"Content-Disposition": slips.content_disposition(sheet)}
    return Response(await slips.slips_pdf(sheet), media_type=slips.PDF_MEDIA_TYPE, headers=headers)


async def serve_export(services: Services, caller: Caller, campaign_id: str, format: str) -> Response[Any]:
    """The campaign's responses as CSV, or responses, scores and buildings as XLSX (supervisors, admins)."""
    # a connection of its own, not the request's: the export reads in a REPEATABLE READ transaction of its
    # own, and the request's would be held idle meanwhile (two connections per export)
    async with acquire(services.pool) as conn:
        found = await campaigns.get_campaign(conn, caller, campaign_id, services.clock.now())  # who may see it
    headers = {"Content-Disposition": exports.content_disposition(found.id, found.name_zh, format)}
    if format == "csv":
        chunks = exports.csv_chunks(services.pool, caller.org_id, found.id)
        return Stream(chunks, media_type=CSV_MEDIA_TYPE, headers=headers)
    content = await exports.xlsx_bytes(services.pool, caller.org_id, found.id)
    return Response(content, media_type=XLSX_MEDIA_TYPE, headers=headers)


class SurveyTemplateController(Controller):
    path = "/survey-templates"
    tags = ["surveys"]

    @post("/", summary="Add a survey template (admin): dimensions, questions, skip logic")
    async def create(
        self, data: JSONBody[SurveyTemplateIn], caller: CurrentCaller, conn: Conn
    ) -> SurveyTemplateVersion:
        return await templates.create_template(conn, caller, data)

    @get("/", summary="Survey templates, each as its current version")
    async def list_all(
        self, caller: CurrentCaller, conn: Conn, cursor: Cursor = None, limit: PageLimit = 100
    ) -> Page[SurveyTemplateVersion]:
        return await templates.list_templates(conn, caller, cursor, limit)

    @get("/{template_id:str}", summary="A survey template's current version")
    async def get_one(self, template_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> SurveyTemplateVersion:
        return await templates.get_template(conn, caller, template_id)

    @put("/{template_id:str}", summary="Edit a survey template: a new version (campaigns keep theirs)")
    async def update(
        self, template_id: FromPath[str], data: JSONBody[SurveyTemplateIn], caller: CurrentCaller, conn: Conn
    ) -> SurveyTemplateVersion:
        return await templates.update_template(conn, caller, template_id, data)


class PropertyCampaignController(Controller):
    path = "/properties/{property_id:str}/campaigns"
    tags = ["surveys"]
    guards = [in_property_scope]

    @post("/", guards=[ADMIN], summary="Start a survey campaign (admin): a link for every household")
    async def create(
        self,
        property_id: FromPath[str],
        data: JSONBody[CampaignCreate],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
    ) -> Campaign:
        secret = services.settings.secret_key or ""
        return await campaigns.create_campaign(conn, caller, property_id, data, secret=secret, now=services.clock.now())

    @get("/", guards=[SUPERVISOR], summary="A property's survey campaigns (supervisors, admins)")
    async def list_all(
        self,
        property_id: FromPath[str],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
        cursor: Cursor = None,
        limit: PageLimit = 100,
    ) -> Page[Campaign]:
        return await campaigns.list_campaigns(conn, caller, property_id, cursor, limit, services.clock.now())


class CampaignController(Controller):
    path = "/campaigns/{campaign_id:str}"
    tags = ["surveys"]

    @get("/", summary="A campaign: its window, state and how many households answered")
    async def get_one(
        self, campaign_id: FromPath[str], caller: CurrentCaller, conn: Conn, services: AppServices
    ) -> Campaign:
        return await campaigns.get_campaign(conn, caller, campaign_id, services.clock.now())

    @get("/links", summary="Every household's link, to print or send (admin)")
    async def links(
        self, campaign_id: FromPath[str], caller: CurrentCaller, conn: Conn, services: AppServices
    ) -> list[InvitationLink]:
        secret = services.settings.secret_key or ""
        return await campaigns.invitation_links(conn, caller, campaign_id, secret=secret, now=services.clock.now())

    @post(
        "/links/{unit_id:str}/revoke",
        guards=[ADMIN],
        status_code=200,
        summary="Revoke a household's link and give it a new one (admin)",
        description="The old link then answers 404 `survey_link_revoked`; each call makes a new link. An answer "
        "already given stays. Audited (`survey_link.revoke`).",
    )
    async def revoke_link(
        self,
        campaign_id: FromPath[str],
        unit_id: FromPath[str],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
    ) -> InvitationLink:
        secret = services.settings.secret_key or ""
        return await campaigns.revoke_link(conn, caller, campaign_id, unit_id, secret=secret, now=services.clock.now())

    @get(
        "/slips",
        media_type=slips.PDF_MEDIA_TYPE,
        content_media_type=slips.PDF_MEDIA_TYPE,  # OpenAPI 3.1's word for binary content
        response_headers=[
            ResponseHeader(
                name="Content-Disposition",
                description="attachment; survey-slips-<campaign>.pdf, and the campaign's Chinese name as filename*",
                documentation_only=True,
            )
        ],
        summary="Printable slips (admin): an A4 PDF, 8 a page, each household's link as a QR code",
        description="By building, then unit number as people read it. Each slip: the property, building and unit, "
        "the QR code of the household's link, the campaign, its closing time in the property's time zone and "
        "the instructions in Chinese and English. The links start with FIELDWORK_PUBLIC_URL, or else the address "
        "this request came to. `building_id`: one building's; `unanswered`: only the households yet to answer.",
        response_description="the PDF, as an attachment named survey-slips-<campaign>.pdf",
    )
    async def print_slips(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[str],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
        building_id: Annotated[str | None, QueryParameter(description="only this building's households")] = None,
        unanswered: Annotated[bool, QueryParameter(description="only the households yet to answer")] = False,
    ) -> Response[bytes]:
        return await serve_slips(request, conn, services, caller, campaign_id, building_id, unanswered)

    @get(
        "/report",
        summary="Household scores and satisfaction rates per dimension, NPS, response rates, change since the last",
        description="Per household: each household's mean over a dimension's Likert answers, then the mean of "
        "those over the responding households (household_score); satisfaction_rate (满意率) is the share of "
        "households whose mean is 4 or more; answer_weighted_score (Σ k·count_k / answers) is labelled as such. "
        "Every formula: docs/surveys.md.",
    )
    async def report(
        self, campaign_id: FromPath[str], caller: CurrentCaller, conn: Conn, services: AppServices
    ) -> Report:
        await campaigns.get_campaign(conn, caller, campaign_id, services.clock.now())  # who may see it
        return await campaign_report(conn, caller.org_id, campaign_id)

    @get(
        "/export",
        summary="The responses as CSV, or responses, scores and buildings as XLSX (supervisors, admins)",
        description="One row per response in submission order; an anonymous campaign's rows name no building "
        "or unit. The CSV is UTF-8 with a BOM and streamed.",
    )
    async def export(
        self, campaign_id: FromPath[str], caller: CurrentCaller, services: AppServices, format: ExportFormat = "xlsx"
    ) -> Response[Any]:
        return await serve_export(services, caller, campaign_id, format)

    @post(
        "/households/{unit_id:str}/responses",
        guards=[SUPERVISOR],
        status_code=201,
        summary="Enter a household's answers taken by telephone or on a home visit (supervisors, admins)",
        description="`channel` phone or visit; the same checks as the household's own answers, and who entered "
        "them is recorded and audited. A household's own answers (link, app) are never overwritten: 409 "
        "answered_by_household; answers staff entered are replaced only with `replace: true` (else 409 "
        "already_answered); an anonymous campaign takes none (409 survey_anonymous). `seen`: the household's "
        "answered_at the sender saw (null: none yet); a different one is 409 survey_changed.",
    )
    async def enter_answers(
        self,
        campaign_id: FromPath[str],
        unit_id: FromPath[str],
        data: JSONBody[StaffAnswers],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
    ) -> Submitted:
        seen = campaigns.UNCHECKED if isinstance(data.seen, UnsetType) else data.seen
        return await staff_answers.submit_by_staff(
            conn,
            caller,
            campaign_id,
            unit_id,
            data.answers,
            services.clock.now(),
            channel=data.channel,
            seen=seen,
            replace=data.replace,
        )

    @post(
        "/actions",
        guards=[ADMIN],
        status_code=201,
        summary="Improvement actions for a flagged dimension (admin): rectification orders or plain actions",
        description="Every action carries a deadline; a plain action a person. Give each action an id to make a "
        "retried call safe. A dimension that is not flagged answers 409 dimension_not_flagged.",
    )
    async def add_actions(
        self,
        campaign_id: FromPath[str],
        data: JSONBody[ActionsCreate],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
    ) -> list[ImprovementAction]:
        now = services.clock.now()
        return await actions.create_actions(conn, caller, campaign_id, data, now, open_survey_order)

    @get("/actions", guards=[SUPERVISOR], summary="A campaign's improvement actions and their states")
    async def list_actions(
        self, campaign_id: FromPath[str], caller: CurrentCaller, conn: Conn, services: AppServices
    ) -> list[ImprovementAction]:
        return await actions.list_actions(conn, caller, campaign_id, services.clock.now())

    @post(
        "/publish",
        guards=[ADMIN],
        status_code=200,
        summary="Publish a closed campaign's results and actions to the property's owners (admin)",
        description="Owners' phones pull them as the campaign's `results` and the `survey_actions` records; "
        "the owners are notified. Publishing again brings what they see up to date.",
    )
    async def publish(
        self, campaign_id: FromPath[str], caller: CurrentCaller, conn: Conn, services: AppServices
    ) -> Published:
        return await actions.publish(conn, caller, campaign_id, services.clock.now())


class SurveyActionController(Controller):
    path = "/survey-actions/{action_id:str}"
    tags = ["surveys"]

    @post("/done", status_code=200, summary="A plain improvement action is done (its person, a supervisor, an admin)")
    async def done(
        self,
        action_id: FromPath[str],
        data: JSONBody[ActionDone],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
    ) -> ImprovementAction:
        return await actions.complete_action(conn, caller, action_id, data, services.clock.now())


class SurveyLinkController(Controller):
    """A household's link. Mounted with the pages (api/pages/router.py): a browser opening it gets the survey
    page, an API client JSON; the JSON POST carries no CSRF token (it sends no cookie to forge)."""

    path = "/survey/{token:str}"
    tags = ["surveys"]
    opt = PUBLIC

    @get(
        "/",
        summary="The survey a household's link opens (no sign-in: the link is the credential)",
        description="JSON for an API client; a browser (Accept: text/html first) gets the survey page, whose form "
        "posts to /survey/{token}/answer.",
        responses={200: ResponseSpec(SurveyForm, description="The survey and this household's answers")},
        response_headers=[ResponseHeader(name="Vary", value="Accept", description="JSON or the page, by Accept")],
    )
    async def form(self, request: Request[Any, Any, Any], token: Token, services: AppServices) -> SurveyForm | Template:
        # reads only, each consistent on its own: no transaction (the page is opened far more than it is sent)
        async with throttle.survey_links(services.limiter, client_address(request)), acquire(services.pool) as conn:
            if wants_html(request):
                return await survey_page.show(request, conn, token, services.clock.now())
            return await campaigns.survey_form(conn, token, services.clock.now())

    @post(
        "/",
        status_code=201,
        summary="Answer (once per household; again while open if the template allows)",
        opt={"exclude_from_csrf": True},
    )
    async def answer(
        self, request: Request[Any, Any, Any], token: Token, data: JSONBody[Answers], conn: Conn, services: AppServices
    ) -> Submitted:
        async with throttle.survey_links(services.limiter, client_address(request)):
            return await campaigns.submit(conn, token, data.answers, services.clock.now())
