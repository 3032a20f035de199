"""Properties, buildings and units."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.deps import Conn, CurrentCaller, Cursor, PageLimit
from api.guards import ADMIN, STAFF, in_property_scope
from core.places import service
from core.places.models import Building, Property, Unit
from core.places.schemas import (
    BuildingCreate,
    BuildingUpdate,
    PropertyCreate,
    PropertyUpdate,
    UnitCreate,
    UnitUpdate,
)
from core.structs import Page


class PropertyController(Controller):
    path = "/properties"
    tags = ["places"]
    guards = [in_property_scope]

    @get("/", summary="Properties the caller can see")
    async def list_properties(
        self, caller: CurrentCaller, conn: Conn, cursor: Cursor = None, limit: PageLimit = 100
    ) -> Page[Property]:
        return await service.list_properties(conn, caller, cursor, limit)

    @post("/", guards=[ADMIN], summary="Create a property (admin)")
    async def create_property(self, data: JSONBody[PropertyCreate], caller: CurrentCaller, conn: Conn) -> Property:
        return await service.create_property(conn, caller, data)

    @get("/{property_id:str}")
    async def get_property(self, property_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> Property:
        return await service.get_property(conn, caller, property_id)

    @patch("/{property_id:str}", guards=[ADMIN], summary="Change a property (admin)")
    async def update_property(
        self, property_id: FromPath[str], data: JSONBody[PropertyUpdate], caller: CurrentCaller, conn: Conn
    ) -> Property:
        return await service.update_property(conn, caller, property_id, data)

    @delete("/{property_id:str}", guards=[ADMIN], summary="Delete an empty property (admin)")
    async def delete_property(self, property_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> None:
        await service.delete_property(conn, caller, property_id)

    @get("/{property_id:str}/buildings")
    async def list_buildings(
        self,
        property_id: FromPath[str],
        caller: CurrentCaller,
        conn: Conn,
        cursor: Cursor = None,
        limit: PageLimit = 100,
    ) -> Page[Building]:
        return await service.list_buildings(conn, caller, property_id, cursor, limit)

    @post("/{property_id:str}/buildings", guards=[ADMIN], summary="Add a building (admin)")
    async def create_building(
        self, property_id: FromPath[str], data: JSONBody[BuildingCreate], caller: CurrentCaller, conn: Conn
    ) -> Building:
        return await service.create_building(conn, caller, property_id, data)

    @get("/{property_id:str}/units", guards=[STAFF], summary="Units of a property (staff, supervisors, admins)")
    async def list_units(
        self,
        property_id: FromPath[str],
        caller: CurrentCaller,
        conn: Conn,
        building_id: FromQuery[str | None] = None,
        cursor: Cursor = None,
        limit: PageLimit = 100,
    ) -> Page[Unit]:
        return await service.list_units(conn, caller, property_id, building_id, cursor, limit)

    @post("/{property_id:str}/units", guards=[ADMIN], summary="Add a unit (admin)")
    async def create_unit(
        self, property_id: FromPath[str], data: JSONBody[UnitCreate], caller: CurrentCaller, conn: Conn
    ) -> Unit:
        return await service.create_unit(conn, caller, property_id, data)


class BuildingController(Controller):
    path = "/buildings/{building_id:str}"
    tags = ["places"]

    @get("/")
    async def get_building(self, building_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> Building:
        return await service.get_building(conn, caller, building_id)

    @patch("/")
    async def update_building(
        self, building_id: FromPath[str], data: JSONBody[BuildingUpdate], caller: CurrentCaller, conn: Conn
    ) -> Building:
        return await service.update_building(conn, caller, building_id, data)

    @delete("/")
    async def delete_building(self, building_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> None:
        await service.delete_building(conn, caller, building_id)


class UnitController(Controller):
    path = "/units/{unit_id:str}"
    tags = ["places"]

    @get("/")
    async def get_unit(self, unit_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> Unit:
        return await service.get_unit(conn, caller, unit_id)

    @patch("/")
    async def update_unit(
        self, unit_id: FromPath[str], data: JSONBody[UnitUpdate], caller: CurrentCaller, conn: Conn
    ) -> Unit:
        return await service.update_unit(conn, caller, unit_id, data)

    @delete("/")
    async def delete_unit(self, unit_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> None:
        await service.delete_unit(conn, caller, unit_id)
