"""Evidence flags (docs/evidence.md): a property's supervisors read what the checks found and dismiss a flag
with a reason. The checks themselves run in the worker; nothing here refuses or holds up work."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.deps import AppServices, Conn, CurrentCaller, Cursor, PageLimit
from api.guards import SUPERVISOR, in_property_scope
from core.structs import Id, Page
from inspections.evidence import flags
from inspections.evidence.models import Dismissal, Flag, FlagStatus, Kind

Since = Annotated[datetime | None, QueryParameter(description="flags made at or after this instant")]
Until = Annotated[datetime | None, QueryParameter(description="flags made before this instant")]


class PropertyFlagController(Controller):
    path = "/properties/{property_id:str}/evidence-flags"
    tags = ["evidence"]
    guards = [in_property_scope, SUPERVISOR]

    @get("/", summary="The evidence checks' flags and notes of a property, newest first (supervisors)")
    async def list_flags(
        self,
        property_id: FromPath[str],
        caller: CurrentCaller,
        conn: Conn,
        status: Annotated[FlagStatus | None, QueryParameter(description="open or dismissed; unset: both")] = None,
        kind: Annotated[Kind | None, QueryParameter(description="one kind of flag")] = None,
        staff_id: Annotated[Id | None, QueryParameter(description="whose evidence")] = None,
        since: Since = None,
        until: Until = None,
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> Page[Flag]:
        return await flags.list_flags(
            conn,
            caller,
            property_id,
            status=status,
            kind=kind,
            staff_id=staff_id,
            since=since,
            until=until,
            cursor=cursor,
            limit=limit,
        )


class FlagController(Controller):
    path = "/evidence-flags"
    tags = ["evidence"]
    guards = [SUPERVISOR]

    @post(
        "/{flag_id:str}/dismiss",
        summary="Dismiss a flag with a reason (its property's supervisors; audited; dismissing again keeps the first)",
        status_code=200,
    )
    async def dismiss(
        self,
        flag_id: FromPath[str],
        data: JSONBody[Dismissal],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
    ) -> Flag:
        return await flags.dismiss(conn, caller, flag_id, data, services.clock.now())
