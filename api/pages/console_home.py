"""The console's first page: the properties the signed-in manager supervises (an admin: all of the org's), each
with the way into its sections; and photos by cookie for the console's pages."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from api.deps import AppServices, Conn
from api.pages.console import HOME, console_page
from api.pages.session import Manager
from api.routes.photos import serve_photo
from core.places import service as places
from inspections import board
from sync.photos.serving import Variant

LISTED = 200  # properties listed; an org with more is told to find the rest through the API


class ConsoleHomePages(Controller):
    path = HOME
    include_in_schema = False

    @get("/")
    async def home(
        self, request: Request[Any, Any, Any], manager: Manager, conn: Conn, services: AppServices
    ) -> Template:
        found = await places.list_properties(conn, manager, None, LISTED)
        orders = {}
        if services.registry.has("inspections"):  # each property's orders at a glance
            ids = [p.id for p in found.items]
            orders = await board.order_summaries(conn, manager, ids, services.clock.now())
        context = {"properties": found.items, "more": found.next_cursor is not None, "orders": orders}
        return console_page(request, services, manager, "console/home.html", context, section="home")

    @get("/photos/{photo_id:str}")
    async def photo(
        self, request: Request[Any, Any, Any], photo_id: FromPath[str], manager: Manager, services: AppServices
    ) -> Response[Any]:
        """The display size (at most 1600 px): what a thumbnail opens."""
        return await serve_photo(request, services, manager, photo_id, "display")

    @get("/photos/{photo_id:str}/{variant:str}")
    async def photo_variant(
        self,
        request: Request[Any, Any, Any],
        photo_id: FromPath[str],
        variant: FromPath[Variant],
        manager: Manager,
        services: AppServices,
    ) -> Response[Any]:
        return await serve_photo(request, services, manager, photo_id, variant)
