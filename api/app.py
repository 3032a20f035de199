"""The app factory. Pure: nothing happens at import or in create_app; pools live in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ControllerRouterHandler

from api.auth import authentication
from api.deps import DEPENDENCIES
from api.edge import edge_middleware
from api.errors import EXCEPTION_HANDLERS
from api.pages.console_auth import ConsoleSignInPages
from api.pages.console_board import ConsoleBoardPages
from api.pages.console_evidence import ConsoleEvidencePages
from api.pages.console_home import ConsoleHomePages
from api.pages.console_kpis import ConsoleKpiPages
from api.pages.console_people import ConsoleOrgPeople, ConsolePropertyPeople
from api.pages.console_reports import ConsoleReportPages
from api.pages.console_review import ConsoleReviewPages
from api.pages.console_schedules import ConsoleSchedulePages
from api.pages.console_setup import ConsoleSetupPages
from api.pages.console_survey_answers import ConsoleSurveyAnswerPages
from api.pages.console_surveys import ConsoleSurveyPages
from api.pages.errors import UNROUTED
from api.pages.owner_auth import OwnerSignInPages
from api.pages.owner_home import OwnerHomePages
from api.pages.owner_meetings import OwnerMeetingPages
from api.pages.owner_photos import owner_photo, owner_photo_variant
from api.pages.owner_surveys import OwnerSurveyPages
from api.pages.owner_ticket_form import OwnerTicketForm, ticket_form_router
from api.pages.owner_tickets import OwnerTicketPages
from api.pages.render import template_config
from api.pages.router import pages_router, static_router
from api.pages.survey import SurveyAnswerPage
from api.requests import JSONRequest
from api.routes.audit import audit_trail
from api.routes.auth import AuthController, me
from api.routes.evidence import FlagController, PropertyFlagController
from api.routes.health import health
from api.routes.imports import import_places
from api.routes.inspection_setup import (
    CheckpointController,
    PropertyInspectionController,
    RouteController,
    TemplateController,
)
from api.routes.inspections import OrderController, PropertyWorkController, RoundController
from api.routes.kpis import org_kpis, property_kpis
from api.routes.meetings import MeetingController, PropertyMeetingController
from api.routes.notifications import InboxController, WebhookController, notification_kinds
from api.routes.people import OwnerController, StaffController, UserController
from api.routes.photos import photo_bytes
from api.routes.places import BuildingController, PropertyController, UnitController
from api.routes.reports import property_report, regenerate_report
from api.routes.schedules import ScheduleController, property_schedules
from api.routes.surveys import (
    CampaignController,
    PropertyCampaignController,
    SurveyActionController,
    SurveyLinkController,
    SurveyTemplateController,
)
from api.routes.sync import pull, push, sync_schema
from api.routes.ticket_reports import desk_kpis, desk_ledger
from api.routes.tickets import PropertyTicketController, TicketController
from api.routes.uploads import uploads_router
from bootstrap.domains import registry as default_registry
from bootstrap.services import open_services
from core.clock import Clock
from core.egress import Resolver
from core.settings import Settings
from sync.plugins import Registry

# The kernel's routes; a domain's are mounted when its plug-in is registered
ROUTES: list[ControllerRouterHandler] = [
    health,
    AuthController,
    me,
    PropertyController,
    BuildingController,
    UnitController,
    UserController,
    StaffController,
    OwnerController,
    audit_trail,
    pull,
    sync_schema,
    WebhookController,
    InboxController,
    notification_kinds,
    ScheduleController,
    photo_bytes,
    property_report,
    regenerate_report,
]
# plug-in name -> its HTTP routes (the API's half of a domain; sync.plugins.Plugin is the other half)
DOMAIN_ROUTES: dict[str, list[ControllerRouterHandler]] = {
    "inspections": [
        TemplateController,
        PropertyInspectionController,
        CheckpointController,
        RouteController,
        PropertyWorkController,
        RoundController,
        OrderController,
        property_kpis,
        org_kpis,
        PropertyFlagController,
        FlagController,
    ],
    "surveys": [
        SurveyTemplateController,
        PropertyCampaignController,
        CampaignController,
        SurveyActionController,
    ],
    "meetings": [PropertyMeetingController, MeetingController],
    "servicedesk": [PropertyTicketController, TicketController, desk_kpis, desk_ledger],
}
# The pages (api/pages): the kernel's, and each domain's when its plug-in is registered
PAGES: list[ControllerRouterHandler] = [
    OwnerSignInPages,
    OwnerHomePages,
    ConsoleSignInPages,
    ConsoleHomePages,
    ConsoleOrgPeople,
    ConsolePropertyPeople,
    ConsoleReportPages,
]
DOMAIN_PAGES: dict[str, list[ControllerRouterHandler]] = {
    "inspections": [
        ConsoleBoardPages,
        ConsoleKpiPages,
        ConsoleReviewPages,
        ConsoleEvidencePages,
        ConsoleSetupPages,
        ConsoleSchedulePages,
    ],
    "surveys": [SurveyLinkController, SurveyAnswerPage, OwnerSurveyPages, ConsoleSurveyPages, ConsoleSurveyAnswerPages],
    "meetings": [OwnerMeetingPages],
    "servicedesk": [OwnerTicketForm, OwnerTicketPages, owner_photo, owner_photo_variant],
}
# a domain's pages whose bodies are larger than a JSON body (a form with photos): a router made from the settings
DOMAIN_PAGE_ROUTERS: dict[str, Callable[[Settings], Router]] = {
    "servicedesk": lambda settings: ticket_form_router(settings.max_photo_bytes),
}

# multipart framing around an import file: boundaries and part headers
IMPORT_OVERHEAD_BYTES = 64 * 1024


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    resolve: Resolver | None = None,
    registry: Registry | None = None,
) -> Litestar:
    """`clock`, `resolve` (webhook hosts' addresses) and `registry` (the plug-ins) are the system's unless a test
    gives its own."""
    if not settings.database_url or not settings.redis_url:
        raise ValueError("create_app needs database_url and redis_url (the CLI starts embedded ones when unset)")
    plugins = registry or default_registry()
    domain_routes = [route for p in plugins.plugins for route in DOMAIN_ROUTES.get(p.name, [])]
    domain_pages = [route for p in plugins.plugins for route in DOMAIN_PAGES.get(p.name, [])]
    domain_pages += [make(settings) for p in plugins.plugins if (make := DOMAIN_PAGE_ROUTERS.get(p.name))]

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_services(settings, clock=clock, resolve=resolve, registry=plugins) as services:
            app.state.services = services
            yield

    # an import file may be larger than a JSON body; its route's body limit comes from the settings
    imports = Router(
        path="/",
        route_handlers=[import_places],
        request_max_body_size=settings.max_import_bytes + IMPORT_OVERHEAD_BYTES,
    )
    # a phone back from a day offline pushes everything at once
    pushes = Router(path="/", route_handlers=[push], request_max_body_size=settings.max_push_bytes)
    return Litestar(
        route_handlers=[
            *ROUTES,
            property_schedules(plugins.schedule_kinds),
            *domain_routes,
            imports,
            pushes,
            uploads_router(settings.max_photo_bytes),
            pages_router(*PAGES, *domain_pages),
            static_router(),
        ],
        template_config=template_config(),
        dependencies=DEPENDENCIES,
        middleware=[*edge_middleware(settings.request_body_timeout, settings.trusted_proxy_list), authentication],
        exception_handlers={**EXCEPTION_HANDLERS, **UNROUTED},  # type: ignore[dict-item]
        lifespan=[lifespan],
        request_max_body_size=settings.max_body_bytes,
        request_class=JSONRequest,
        openapi_config=OpenAPIConfig(
            title="fieldwork",
            version="0.1.0",
            description="Backend for property-management field work: places, people, offline sync, rounds, "
            "rectification and owner surveys. Errors are RFC 9457 problem details.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
            components=Components(
                security_schemes={"BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
            security=[{"BearerToken": []}],
        ),
        debug=False,
    )
