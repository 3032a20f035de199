"""Schedules (admins set them up; supervisors of the property read them and preview what they will make).

The body of a new schedule depends on the registered schedule kinds, so its controller is made per app
(property_schedules). No `from __future__ import annotations` here: that controller's annotations name the
shape made at that moment, which a string annotation could not find.
"""

from collections.abc import Mapping
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.deps import AppServices, Conn, CurrentCaller, Cursor, PageLimit
from api.guards import ADMIN, SUPERVISOR, in_property_scope
from core.schedules import service
from core.schedules.kinds import ScheduleKind
from core.schedules.models import Occurrence, Schedule
from core.schedules.schemas import create_shape
from core.structs import Page

PreviewCount = Annotated[int, QueryParameter(ge=1, le=100, description="how many occurrences, 1-100")]


def property_schedules(kinds: Mapping[str, ScheduleKind]) -> type[Controller]:
    """The controller of a property's schedules, taking the schedule kinds `kinds` (the registry's)."""
    ScheduleCreate = create_shape(kinds)

    class PropertyScheduleController(Controller):
        path = "/properties/{property_id:str}/schedules"
        tags = ["schedules"]
        guards = [in_property_scope]

        @get("/", guards=[SUPERVISOR], summary="Schedules of a property (supervisors, admins)")
        async def list_schedules(
            self,
            property_id: FromPath[str],
            caller: CurrentCaller,
            conn: Conn,
            cursor: Cursor = None,
            limit: PageLimit = 100,
        ) -> Page[Schedule]:
            return await service.list_schedules(conn, caller, property_id, cursor, limit)

        @post(
            "/",
            guards=[ADMIN],
            summary="Add a schedule (admin); survey campaigns and owner meetings default their rule and duration",
            description=ScheduleCreate.__doc__,
        )
        async def create_schedule(
            self,
            property_id: FromPath[str],
            data: JSONBody[ScheduleCreate],  # type: ignore[valid-type]
            caller: CurrentCaller,
            conn: Conn,
            services: AppServices,
        ) -> Schedule:
            return await service.create_schedule(conn, caller, property_id, data, services.clock.now(), kinds=kinds)

    return PropertyScheduleController


class ScheduleController(Controller):
    path = "/schedules/{schedule_id:str}"
    tags = ["schedules"]

    @get("/")
    async def get_schedule(self, schedule_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> Schedule:
        return await service.get_schedule(conn, caller, schedule_id)

    @post("/pause", status_code=200, summary="Stop making occurrences (admin)")
    async def pause(self, schedule_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> Schedule:
        return await service.pause(conn, caller, schedule_id)

    @post("/resume", status_code=200, summary="Make occurrences again from now on; the paused ones are skipped (admin)")
    async def resume(
        self, schedule_id: FromPath[str], caller: CurrentCaller, conn: Conn, services: AppServices
    ) -> Schedule:
        return await service.resume(conn, caller, schedule_id, services.clock.now())

    @get("/preview", summary="The next occurrences, with their local start in the property's time zone")
    async def preview(
        self,
        schedule_id: FromPath[str],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
        count: PreviewCount = 10,
    ) -> list[Occurrence]:
        return await service.preview(conn, caller, schedule_id, count, services.clock.now())
