"""The app factory. Pure: nothing happens at import or in create_app; pools live in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from redis.asyncio import Redis

from api.auth import authentication
from api.deps import DEPENDENCIES
from api.edge import edge_middleware
from api.errors import EXCEPTION_HANDLERS
from api.requests import JSONRequest
from api.routes.audit import audit_trail
from api.routes.auth import AuthController, me
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
from api.routes.notifications import InboxController, WebhookController
from api.routes.people import OwnerController, StaffController, UserController
from api.routes.photos import photo_bytes
from api.routes.places import BuildingController, PropertyController, UnitController
from api.routes.schedules import PropertyScheduleController, ScheduleController
from api.routes.surveys import (
    CampaignController,
    PropertyCampaignController,
    SurveyActionController,
    SurveyLinkController,
    SurveyTemplateController,
)
from api.routes.sync import pull, push, sync_schema
from api.routes.uploads import uploads_router
from api.state import Services
from core.clock import Clock, configured_clock
from core.db import create_pool
from core.egress import Egress, Resolver
from core.people.auth import AuthConfig
from core.ratelimit import AttemptLimiter, Limits
from core.settings import Settings, with_secret
from sync.photos.storage import BlobStore
from sync.photos.uploads import Uploads, upload_config

ROUTES = [
    health,
    AuthController,
    me,
    PropertyController,
    BuildingController,
    UnitController,
    UserController,
    StaffController,
    OwnerController,
    TemplateController,
    PropertyInspectionController,
    CheckpointController,
    RouteController,
    audit_trail,
    pull,
    sync_schema,
    PropertyWorkController,
    RoundController,
    OrderController,
    property_kpis,
    org_kpis,
    WebhookController,
    InboxController,
    PropertyScheduleController,
    ScheduleController,
    photo_bytes,
    SurveyTemplateController,
    PropertyCampaignController,
    CampaignController,
    SurveyActionController,
    SurveyLinkController,
    PropertyMeetingController,
    MeetingController,
]

# seconds to reach Redis, and for one command's answer (the API sends no blocking commands)
REDIS_CONNECT_TIMEOUT = 2
REDIS_TIMEOUT = 5

# multipart framing around an import file: boundaries and part headers
IMPORT_OVERHEAD_BYTES = 64 * 1024


def create_app(settings: Settings, *, clock: Clock | None = None, resolve: Resolver | None = None) -> Litestar:
    """`clock` and `resolve` (webhook hosts' addresses) are the system's unless a test gives its own."""
    if not settings.database_url or not settings.redis_url:
        raise ValueError("create_app needs database_url and redis_url (the CLI starts embedded ones when unset)")

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        resolved = with_secret(settings)
        assert resolved.secret_key and resolved.database_url and resolved.redis_url
        pool = await create_pool(resolved.database_url, size=resolved.db_pool_size)
        # short socket timeouts: an unreachable Redis makes a login 503 in seconds, not hang it
        redis = Redis.from_url(
            resolved.redis_url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT, socket_timeout=REDIS_TIMEOUT
        )
        store = BlobStore.from_url(resolved.photo_store_url)
        app_clock = clock or configured_clock(resolved.clock_file)
        app.state.services = Services(
            settings=resolved,
            clock=app_clock,
            pool=pool,
            redis=redis,
            auth=AuthConfig(
                secret=resolved.secret_key, access_ttl=resolved.access_token_ttl, refresh_ttl=resolved.refresh_token_ttl
            ),
            limiter=AttemptLimiter(
                redis,
                namespace=resolved.namespace,
                clock=app_clock,
                limits=Limits.derived(
                    attempts=resolved.login_attempts,
                    window=resolved.login_window,
                    known_for=resolved.refresh_token_ttl,
                ),
            ),
            store=store,
            uploads=Uploads(pool, upload_config(resolved, store), app_clock),
            egress=Egress.of(resolved, resolve),
            started=app_clock.now(),
        )
        try:
            yield
        finally:
            await redis.aclose()
            await pool.close()

    # an import file may be larger than a JSON body; its route's body limit comes from the settings
    imports = Router(
        path="/",
        route_handlers=[import_places],
        request_max_body_size=settings.max_import_bytes + IMPORT_OVERHEAD_BYTES,
    )
    # a phone back from a day offline pushes everything at once
    pushes = Router(path="/", route_handlers=[push], request_max_body_size=settings.max_push_bytes)
    return Litestar(
        route_handlers=[*ROUTES, imports, pushes, uploads_router(settings.max_photo_bytes)],
        dependencies=DEPENDENCIES,
        middleware=[*edge_middleware(settings.request_body_timeout, settings.trusted_proxy_list), authentication],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
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
