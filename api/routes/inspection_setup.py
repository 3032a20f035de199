"""Setting up inspections (admins): checklist templates and their versions, checkpoints, routes, and who answers
for a category of findings by default."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from api.deps import Conn, CurrentCaller, Cursor, PageLimit
from api.guards import ADMIN, STAFF, SUPERVISOR, in_property_scope
from core.structs import Page
from inspections import setup as service
from inspections import templates
from inspections.models import Template, TemplateVersion
from inspections.schemas import (
    CheckpointCreate,
    CheckpointOut,
    CheckpointUpdate,
    DefaultResponsibleOut,
    DefaultResponsibleSet,
    RouteCreate,
    RouteOut,
    TemplateCreate,
)


class TemplateController(Controller):
    path = "/templates"
    tags = ["inspection setup"]
    # owners are refused whatever the id; admin rights are checked once the template is known to exist
    guards = [STAFF]

    @get("/", summary="Checklist templates with their current version (archived ones with ?archived=true)")
    async def list_templates(
        self,
        caller: CurrentCaller,
        conn: Conn,
        archived: FromQuery[bool] = False,
        cursor: Cursor = None,
        limit: PageLimit = 100,
    ) -> Page[Template]:
        return await templates.list_templates(conn, caller, archived, cursor, limit)

    @post("/", guards=[ADMIN], summary="Create a checklist template, version 1 (admin)")
    async def create_template(self, data: JSONBody[TemplateCreate], caller: CurrentCaller, conn: Conn) -> Template:
        return await templates.create_template(conn, caller, data)

    @get("/{template_id:str}")
    async def get_template(self, template_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> Template:
        return await templates.get_template(conn, caller, template_id)

    @put(
        "/{template_id:str}",
        summary="Edit a template: a new version unless the content is the current one already (admin)",
    )
    async def update_template(
        self, template_id: FromPath[str], data: JSONBody[TemplateCreate], caller: CurrentCaller, conn: Conn
    ) -> Template:
        return await templates.update_template(conn, caller, template_id, data)

    @delete("/{template_id:str}", summary="Archive a template; its versions stay (admin)")
    async def archive_template(self, template_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> None:
        await templates.archive_template(conn, caller, template_id)

    @get("/{template_id:str}/versions", summary="Every version of a template, newest first")
    async def list_versions(
        self, template_id: FromPath[str], caller: CurrentCaller, conn: Conn
    ) -> list[TemplateVersion]:
        return await templates.list_versions(conn, caller, template_id)

    @get("/{template_id:str}/versions/{version:int}")
    async def get_version(
        self, template_id: FromPath[str], version: FromPath[int], caller: CurrentCaller, conn: Conn
    ) -> TemplateVersion:
        return await templates.get_version(conn, caller, template_id, version)


class PropertyInspectionController(Controller):
    path = "/properties/{property_id:str}"
    tags = ["inspection setup"]
    guards = [in_property_scope]

    @get("/checkpoints", guards=[STAFF], summary="Checkpoints of a property (staff see tag digests, not codes)")
    async def list_checkpoints(
        self,
        property_id: FromPath[str],
        caller: CurrentCaller,
        conn: Conn,
        active: FromQuery[bool | None] = None,
        cursor: Cursor = None,
        limit: PageLimit = 100,
    ) -> Page[CheckpointOut]:
        return await service.list_checkpoints(conn, caller, property_id, active, cursor, limit)

    @post("/checkpoints", guards=[ADMIN], summary="Add a checkpoint with its QR / NFC tag code (admin)")
    async def create_checkpoint(
        self, property_id: FromPath[str], data: JSONBody[CheckpointCreate], caller: CurrentCaller, conn: Conn
    ) -> CheckpointOut:
        return await service.create_checkpoint(conn, caller, property_id, data)

    @get("/routes", guards=[STAFF], summary="Patrol routes of a property")
    async def list_routes(
        self,
        property_id: FromPath[str],
        caller: CurrentCaller,
        conn: Conn,
        active: FromQuery[bool | None] = None,
        cursor: Cursor = None,
        limit: PageLimit = 100,
    ) -> Page[RouteOut]:
        return await service.list_routes(conn, caller, property_id, active, cursor, limit)

    @post("/routes", guards=[ADMIN], summary="Add a patrol route (admin)")
    async def create_route(
        self, property_id: FromPath[str], data: JSONBody[RouteCreate], caller: CurrentCaller, conn: Conn
    ) -> RouteOut:
        return await service.create_route(conn, caller, property_id, data)

    @get(
        "/rectification-defaults",
        guards=[SUPERVISOR],
        summary="Who answers for each category of findings by default (supervisors, admins)",
    )
    async def list_defaults(
        self, property_id: FromPath[str], caller: CurrentCaller, conn: Conn
    ) -> list[DefaultResponsibleOut]:
        return await service.list_default_responsibles(conn, caller, property_id)

    @put(
        "/rectification-defaults/{category:str}",
        guards=[ADMIN],
        summary="Name who answers for a category of findings; a supervisor or staff member of the property (admin)",
    )
    async def set_default(
        self,
        property_id: FromPath[str],
        category: FromPath[str],
        data: JSONBody[DefaultResponsibleSet],
        caller: CurrentCaller,
        conn: Conn,
    ) -> DefaultResponsibleOut:
        return await service.set_default_responsible(conn, caller, property_id, category, data)

    @delete("/rectification-defaults/{category:str}", guards=[ADMIN], summary="Remove a default (admin)")
    async def remove_default(
        self, property_id: FromPath[str], category: FromPath[str], caller: CurrentCaller, conn: Conn
    ) -> None:
        await service.remove_default_responsible(conn, caller, property_id, category)


class CheckpointController(Controller):
    path = "/checkpoints/{checkpoint_id:str}"
    tags = ["inspection setup"]
    guards = [STAFF]

    @get("/")
    async def get_checkpoint(self, checkpoint_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> CheckpointOut:
        return await service.get_checkpoint(conn, caller, checkpoint_id)

    @patch("/", summary="Change or retire (active=false) a checkpoint (admin)")
    async def update_checkpoint(
        self, checkpoint_id: FromPath[str], data: JSONBody[CheckpointUpdate], caller: CurrentCaller, conn: Conn
    ) -> CheckpointOut:
        return await service.update_checkpoint(conn, caller, checkpoint_id, data)


class RouteController(Controller):
    path = "/routes/{route_id:str}"
    tags = ["inspection setup"]
    guards = [STAFF]

    @get("/")
    async def get_route(self, route_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> RouteOut:
        return await service.get_route(conn, caller, route_id)

    @put("/", summary="Replace a route's plan; rounds already made keep theirs (admin)")
    async def replace_route(
        self, route_id: FromPath[str], data: JSONBody[RouteCreate], caller: CurrentCaller, conn: Conn
    ) -> RouteOut:
        return await service.replace_route(conn, caller, route_id, data)

    @delete("/", summary="Retire a route (active=false) (admin)")
    async def deactivate_route(self, route_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> None:
        await service.deactivate_route(conn, caller, route_id)
