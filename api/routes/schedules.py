"""Schedules (admins set them up; supervisors of the property read them and preview what they will make)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.deps import AppServices, Conn, CurrentCaller
from api.guards import ADMIN, SUPERVISOR, in_property_scope
from api.routes.places import Cursor, PageLimit
from core.schedules import service
from core.schedules.models import Occurrence, Schedule
from core.schedules.schemas import ScheduleCreate
from core.structs import Page
from inspections.schedule_payload import check_round_payload
from surveys.schedules import check_survey_payload

PAYLOAD_CHECKS: dict[str, service.PayloadCheck] = {
    "inspection_round": check_round_payload,
    "survey_campaign": check_survey_payload,
}
PreviewCount = Annotated[int, QueryParameter(ge=1, le=100, description="how many occurrences, 1-100")]


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
    )
    async def create_schedule(
        self,
        property_id: FromPath[str],
        data: JSONBody[ScheduleCreate],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
    ) -> Schedule:
        return await service.create_schedule(
            conn, caller, property_id, data, services.clock.now(), checks=PAYLOAD_CHECKS
        )


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
