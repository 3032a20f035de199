"""The console's setup section of a property (admins change, supervisors read): an overview, checkpoints with
their printable QR tag labels, and patrol routes. Every read and change is inspections/setup.py's use case, as
the REST routes call it (api/routes/inspection_setup.py); a form refused by it comes back (422, or 409 for a tag
code in use) with the reason beside the field and what was typed kept. Schedules: console_schedules.py; people:
console_people.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.deps import AppServices, Conn
from api.pages.console import console_page, property_home, property_in_view
from api.pages.forms import Refused, attempt, converted, form_text, number
from api.pages.lang import lang_of
from api.pages.session import Manager
from api.pages.texts import translator
from bootstrap.services import Services
from core.access import Caller
from core.errors import NotFound
from core.people import service as people
from core.places import service as places
from core.places.models import Property
from core.schedules import service as schedules
from inspections import labels, setup
from inspections.schemas import CheckpointCreate, CheckpointOut, CheckpointUpdate, RouteCreate, RouteOut

LISTED = 500  # checkpoints and routes on a page (a property has tens)
CHECKPOINT_FIELDS = ("name", "tag_code", "building_id", "location", "geo_lat", "geo_lon")
ROUTE_FIELDS = ("name", "tolerance_minutes", "window_start", "window_end")


def setup_home(property_id: str) -> str:
    return f"{property_home(property_id)}/setup"


def setup_page(
    request: Request[Any, Any, Any],
    services: Services,
    manager: Caller,
    prop: Property,
    name: str,
    context: Mapping[str, Any],
    heading: str,
    status: int = 200,
) -> Template:
    """A page of the setup section (`name` under console/), its sub-pages linked above it."""
    base = setup_home(prop.id)
    subs = [(key, f"{base}{tail}") for key, tail in SUB_PAGES]
    context = {**context, "subs": subs, "setup_base": base, "page_path": request.url.path}
    return console_page(
        request,
        services,
        manager,
        f"console/{name}",
        context,
        section="setup",
        prop=prop,
        heading=heading,
        status=status,
    )


SUB_PAGES = (
    ("overview", ""),
    ("checkpoints", "/checkpoints"),
    ("routes", "/routes"),
    ("schedules", "/schedules"),
    ("people", "/people"),
)


async def _checkpoints(conn: asyncpg.Connection, manager: Caller, property_id: str) -> list[CheckpointOut]:
    return (await setup.list_checkpoints(conn, manager, property_id, None, None, LISTED)).items


async def _buildings(conn: asyncpg.Connection, manager: Caller, property_id: str) -> list[Any]:
    return (await places.list_buildings(conn, manager, property_id, None, LISTED)).items


def checkpoint_input(values: Mapping[str, str], lang: Any) -> dict[str, Any]:
    """The form's values as CheckpointCreate / CheckpointUpdate take them (empty optional fields: none)."""
    return {
        "name": values["name"],
        "tag_code": values["tag_code"],
        "building_id": values["building_id"] or None,
        "location": values["location"],
        "geo_lat": number(values["geo_lat"], "geo_lat", lang, real=True),
        "geo_lon": number(values["geo_lon"], "geo_lon", lang, real=True),
    }


class OfProperty(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def property_id(self) -> str: ...


def same_property(found: OfProperty, property_id: str, entity: str) -> None:
    """A checkpoint, route or schedule reached under another property's address is not found there."""
    if found.property_id != property_id:
        raise NotFound(f"{entity} {found.id} not found", entity=entity, id=found.id)


class ConsoleSetupPages(Controller):
    path = "/console/properties/{property_id:str}/setup"
    include_in_schema = False

    @get("/")
    async def overview(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Template:
        prop = await property_in_view(conn, manager, property_id)
        checkpoints = await _checkpoints(conn, manager, property_id)
        routes = (await setup.list_routes(conn, manager, property_id, None, None, LISTED)).items
        found = await schedules.list_schedules(conn, manager, property_id, None, LISTED)
        staff = await people.property_staff(conn, manager, property_id)
        counts = {
            "checkpoints": (sum(c.active for c in checkpoints), len(checkpoints)),
            "routes": (sum(r.active for r in routes), len(routes)),
            "schedules": (sum(not s.paused for s in found.items), len(found.items)),
            "people": (sum(p.active for p in staff), len(staff)),
        }
        return setup_page(request, services, manager, prop, "setup.html", {"counts": counts}, "console.setup.title")

    # checkpoints

    async def _checkpoints_page(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        services: Services,
        manager: Caller,
        prop: Property,
        values: Mapping[str, str] | None = None,
        errors: Mapping[str, str] | None = None,
        status: int = 200,
    ) -> Template:
        context = {
            "checkpoints": await _checkpoints(conn, manager, prop.id),
            "buildings": await _buildings(conn, manager, prop.id),
            "values": values or dict.fromkeys(CHECKPOINT_FIELDS, ""),
            "errors": errors or {},
            "done": request.query_params.get("done", ""),
        }
        return setup_page(
            request, services, manager, prop, "setup_checkpoints.html", context, "console.setup.checkpoints", status
        )

    @get("/checkpoints")
    async def checkpoints(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Template:
        prop = await property_in_view(conn, manager, property_id)
        return await self._checkpoints_page(request, conn, services, manager, prop)

    @post("/checkpoints", status_code=303)
    async def add_checkpoint(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Response[Any]:
        prop = await property_in_view(conn, manager, property_id)
        lang = lang_of(request)
        values = form_text(await request.form(), CHECKPOINT_FIELDS)
        try:
            data = converted(checkpoint_input(values, lang), CheckpointCreate, lang)
            await attempt(conn, lang, lambda: setup.create_checkpoint(conn, manager, property_id, data))
        except Refused as refused:
            return await self._checkpoints_page(
                request, conn, services, manager, prop, values, refused.errors, refused.status
            )
        return Redirect(f"{setup_home(property_id)}/checkpoints?done=added", status_code=303)

    @get("/checkpoints/labels.pdf")
    async def label_sheet(
        self, request: Request[Any, Any, Any], property_id: FromPath[str], manager: Manager, conn: Conn
    ) -> Response[bytes]:
        await property_in_view(conn, manager, property_id)
        ids = [i for value in request.query_params.getall("ids", []) for i in value.split(",") if i.strip()]
        sheet = await labels.checkpoint_labels(conn, manager, property_id, [i.strip() for i in ids] or None)
        return Response(
            await labels.labels_pdf(sheet),
            media_type="application/pdf",
            headers={"Content-Disposition": labels.content_disposition(sheet), "Cache-Control": "no-store"},
        )

    async def _checkpoint_page(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        services: Services,
        manager: Caller,
        prop: Property,
        checkpoint: CheckpointOut,
        values: Mapping[str, str] | None = None,
        errors: Mapping[str, str] | None = None,
        status: int = 200,
    ) -> Template:
        shown = {f: "" if getattr(checkpoint, f) is None else str(getattr(checkpoint, f)) for f in CHECKPOINT_FIELDS}
        context = {
            "checkpoint": checkpoint,
            "buildings": await _buildings(conn, manager, prop.id),
            "values": values or shown,
            "errors": errors or {},
        }
        return setup_page(
            request, services, manager, prop, "setup_checkpoint.html", context, "console.setup.checkpoint.edit", status
        )

    async def _checkpoint(
        self, conn: asyncpg.Connection, manager: Caller, property_id: str, checkpoint_id: str
    ) -> tuple[Property, CheckpointOut]:
        prop = await property_in_view(conn, manager, property_id)
        found = await setup.get_checkpoint(conn, manager, checkpoint_id)
        same_property(found, property_id, "checkpoint")
        return prop, found

    @get("/checkpoints/{checkpoint_id:str}")
    async def checkpoint(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        checkpoint_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Template:
        prop, found = await self._checkpoint(conn, manager, property_id, checkpoint_id)
        return await self._checkpoint_page(request, conn, services, manager, prop, found)

    @post("/checkpoints/{checkpoint_id:str}", status_code=303)
    async def edit_checkpoint(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        checkpoint_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Response[Any]:
        prop, found = await self._checkpoint(conn, manager, property_id, checkpoint_id)
        lang = lang_of(request)
        values = form_text(await request.form(), CHECKPOINT_FIELDS)
        try:
            data = converted(checkpoint_input(values, lang), CheckpointUpdate, lang)
            await attempt(conn, lang, lambda: setup.update_checkpoint(conn, manager, checkpoint_id, data))
        except Refused as refused:
            return await self._checkpoint_page(
                request, conn, services, manager, prop, found, values, refused.errors, refused.status
            )
        return Redirect(f"{setup_home(property_id)}/checkpoints?done=saved", status_code=303)

    @post("/checkpoints/{checkpoint_id:str}/active", status_code=303)
    async def checkpoint_active(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        checkpoint_id: FromPath[str],
        manager: Manager,
        conn: Conn,
    ) -> Redirect:
        await self._checkpoint(conn, manager, property_id, checkpoint_id)
        active = (await request.form()).get("active") == "1"
        await setup.update_checkpoint(conn, manager, checkpoint_id, CheckpointUpdate(active=active))
        return Redirect(f"{setup_home(property_id)}/checkpoints?done=saved", status_code=303)

    # routes

    @get("/routes")
    async def routes(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Template:
        prop = await property_in_view(conn, manager, property_id)
        routes = (await setup.list_routes(conn, manager, property_id, None, None, LISTED)).items
        names = {c.id: c.name for c in await _checkpoints(conn, manager, property_id)}
        context = {"routes": routes, "names": names, "done": request.query_params.get("done", "")}
        return setup_page(request, services, manager, prop, "setup_routes.html", context, "console.setup.routes")

    async def _route_page(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        services: Services,
        manager: Caller,
        prop: Property,
        route: RouteOut | None,
        values: Mapping[str, str],
        positions: Mapping[str, tuple[str, str]],
        errors: Mapping[str, str] | None = None,
        status: int = 200,
    ) -> Template:
        checkpoints = [c for c in await _checkpoints(conn, manager, prop.id) if c.active or c.id in positions]
        # the route's stops first, in their order, then the rest
        order = {cid: i for i, cid in enumerate(stops_order(positions))}
        checkpoints.sort(key=lambda c: order.get(c.id, len(order)))
        context = {
            "route": route,
            "checkpoints": checkpoints,
            "values": values,
            "positions": positions,
            "errors": errors or {},
        }
        heading = "console.setup.route.edit" if route else "console.setup.route.new"
        return setup_page(request, services, manager, prop, "setup_route.html", context, heading, status)

    @get("/routes/new")
    async def new_route(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Template:
        prop = await property_in_view(conn, manager, property_id)
        values = {"name": "", "tolerance_minutes": "5", "window_start": "", "window_end": ""}
        return await self._route_page(request, conn, services, manager, prop, None, values, {})

    @post("/routes", status_code=303)
    async def add_route(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Response[Any]:
        prop = await property_in_view(conn, manager, property_id)
        return await self._save_route(request, conn, services, manager, prop, None)

    async def _route(
        self, conn: asyncpg.Connection, manager: Caller, property_id: str, route_id: str
    ) -> tuple[Property, RouteOut]:
        prop = await property_in_view(conn, manager, property_id)
        found = await setup.get_route(conn, manager, route_id)
        same_property(found, property_id, "route")
        return prop, found

    @get("/routes/{route_id:str}")
    async def route(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        route_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Template:
        prop, found = await self._route(conn, manager, property_id, route_id)
        values = {
            "name": found.name,
            "tolerance_minutes": str(found.tolerance_minutes),
            "window_start": found.window_start or "",
            "window_end": found.window_end or "",
        }
        positions = {s.checkpoint_id: (str(i + 1), str(s.minutes)) for i, s in enumerate(found.stops)}
        return await self._route_page(request, conn, services, manager, prop, found, values, positions)

    @post("/routes/{route_id:str}", status_code=303)
    async def edit_route(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        route_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Response[Any]:
        prop, found = await self._route(conn, manager, property_id, route_id)
        return await self._save_route(request, conn, services, manager, prop, found)

    @post("/routes/{route_id:str}/retire", status_code=303)
    async def retire_route(
        self, property_id: FromPath[str], route_id: FromPath[str], manager: Manager, conn: Conn
    ) -> Redirect:
        await self._route(conn, manager, property_id, route_id)
        await setup.deactivate_route(conn, manager, route_id)
        return Redirect(f"{setup_home(property_id)}/routes?done=retired", status_code=303)

    async def _save_route(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        services: Services,
        manager: Caller,
        prop: Property,
        route: RouteOut | None,
    ) -> Response[Any]:
        lang = lang_of(request)
        form = await request.form()
        values = form_text(form, ROUTE_FIELDS)
        positions = {
            key.removeprefix("position."): (
                str(form.get(key) or "").strip(),
                str(form.get(f"minutes.{key[9:]}") or "").strip(),
            )
            for key in form
            if key.startswith("position.")
        }
        try:
            stops = route_stops(positions, lang)
            given = {
                "name": values["name"],
                "stops": stops,
                "tolerance_minutes": number(values["tolerance_minutes"], "tolerance_minutes", lang),
                "window_start": values["window_start"] or None,
                "window_end": values["window_end"] or None,
            }
            data = converted({k: v for k, v in given.items() if v is not None}, RouteCreate, lang)
            if route is None:
                saved = await attempt(conn, lang, lambda: setup.create_route(conn, manager, prop.id, data))
            else:
                saved = await attempt(conn, lang, lambda: setup.replace_route(conn, manager, route.id, data))
        except Refused as refused:
            errors = {_stop_field(k, stops_order(positions)): v for k, v in refused.errors.items()}
            kept = {k: v for k, v in positions.items() if v[0]}
            return await self._route_page(
                request, conn, services, manager, prop, route, values, kept, errors, refused.status
            )
        return Redirect(
            f"{setup_home(prop.id)}/routes?done={'saved' if route else 'added'}#{saved.id}", status_code=303
        )


def stops_order(positions: Mapping[str, tuple[str, str]]) -> list[str]:
    """The checkpoints given a position, in the order of their positions (ties: as listed)."""
    numbered = [(int(p), i, cid) for i, (cid, (p, _)) in enumerate(positions.items()) if p.isdigit()]
    return [cid for _, _, cid in sorted(numbered)]


def route_stops(positions: Mapping[str, tuple[str, str]], lang: Any) -> list[dict[str, Any]]:
    """The stops a form gives: each checkpoint with a position (1, 2, 3 …), in that order, with its minutes after
    the previous stop (empty: 0)."""
    for cid, (position, _) in positions.items():
        if position and not position.isdigit():
            raise Refused({f"position.{cid}": translator(lang)("console.setup.number")})
    stops = []
    for cid in stops_order(positions):
        minutes = number(positions[cid][1], f"minutes.{cid}", lang)
        stops.append({"checkpoint_id": cid, "minutes": 0 if minutes is None else minutes})
    return stops


def _stop_field(field: str, order: list[str]) -> str:
    """The domain's `stops[2].checkpoint_id` as the form's field of that checkpoint's position."""
    if field.startswith("stops[") and "]" in field:
        index = int(field[6 : field.index("]")])
        if index < len(order):
            return f"position.{order[index]}"
    return field
