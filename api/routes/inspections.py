"""Rounds and rectification orders: what staff work from, and the supervisor's review queue."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.deps import AppServices, Conn, CurrentCaller, Cursor, PageLimit
from api.guards import SUPERVISOR, in_property_scope
from core.structs import Page
from inspections import rectification, rounds
from inspections.models import Round
from inspections.schemas_work import (
    NoteBody,
    OrderCreate,
    OrderOut,
    Reassign,
    RejectBody,
    ReviewItem,
    RoundCreate,
    RoundDetail,
    VerifyBody,
)

Mine = Annotated[bool, QueryParameter(description="only your own (supervisors and admins see their properties')")]
RoundStatusFilter = Literal["planned", "in_progress", "completed", "missed"]
OrderStatusFilter = Literal["open", "in_progress", "submitted", "verified"]


class PropertyWorkController(Controller):
    path = "/properties/{property_id:str}"
    tags = ["inspections"]
    guards = [in_property_scope]

    @post("/rounds", guards=[SUPERVISOR], summary="Assign a round (supervisors of the property)")
    async def create_round(
        self,
        property_id: FromPath[str],
        data: JSONBody[RoundCreate],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
    ) -> RoundDetail:
        return await rounds.create_round(conn, caller, property_id, data, services.clock.now())

    @post("/orders", guards=[SUPERVISOR], summary="Open a rectification order by hand (supervisors)")
    async def create_order(
        self,
        property_id: FromPath[str],
        data: JSONBody[OrderCreate],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
    ) -> OrderOut:
        return await rectification.create_order(conn, caller, property_id, data, services.clock.now())

    @get(
        "/review-queue",
        guards=[SUPERVISOR],
        summary="Submitted orders waiting for a verdict, oldest first, with before and after photo ids",
    )
    async def review_queue(
        self,
        property_id: FromPath[str],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> Page[ReviewItem]:
        return await rectification.review_queue(conn, caller, property_id, services.clock.now(), cursor, limit)


class RoundController(Controller):
    path = "/rounds"
    tags = ["inspections"]

    @get("/", summary="Rounds: staff get theirs; supervisors and admins their properties'")
    async def list_rounds(
        self,
        caller: CurrentCaller,
        conn: Conn,
        property_id: FromQuery[str | None] = None,
        mine: Mine = False,
        status: FromQuery[RoundStatusFilter | None] = None,
        cursor: Cursor = None,
        limit: PageLimit = 100,
    ) -> Page[Round]:
        return await rounds.list_rounds(
            conn, caller, property_id=property_id, mine=mine, status=status, cursor=cursor, limit=limit
        )

    @get("/{round_id:str}", summary="A round with its checkpoint visits and item results")
    async def get_round(self, round_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> RoundDetail:
        return await rounds.get_round(conn, caller, round_id)

    @post("/{round_id:str}/reassign", summary="Give a planned round to someone else (supervisors)", status_code=200)
    async def reassign(
        self, round_id: FromPath[str], data: JSONBody[Reassign], caller: CurrentCaller, conn: Conn
    ) -> RoundDetail:
        return await rounds.reassign(conn, caller, round_id, data)


class OrderController(Controller):
    path = "/orders"
    tags = ["inspections"]

    @get("/", summary="Rectification orders, soonest deadline first: staff get theirs")
    async def list_orders(
        self,
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
        property_id: FromQuery[str | None] = None,
        mine: Mine = False,
        status: FromQuery[OrderStatusFilter | None] = None,
        overdue: Annotated[bool, QueryParameter(description="only unverified orders past their deadline")] = False,
        cursor: Cursor = None,
        limit: PageLimit = 100,
    ) -> Page[OrderOut]:
        return await rectification.list_orders(
            conn,
            caller,
            services.clock.now(),
            property_id=property_id,
            mine=mine,
            status=status,
            overdue=overdue,
            cursor=cursor,
            limit=limit,
        )

    @get("/{order_id:str}", summary="One order, with its before and after photo ids")
    async def get_order(
        self, order_id: FromPath[str], caller: CurrentCaller, conn: Conn, services: AppServices
    ) -> OrderOut:
        return await rectification.get_order(conn, caller, order_id, services.clock.now())

    @post("/{order_id:str}/start", summary="Start work on an order (open → in progress)", status_code=200)
    async def start(
        self, order_id: FromPath[str], caller: CurrentCaller, conn: Conn, services: AppServices
    ) -> OrderOut:
        return await rectification.transition(conn, caller, order_id, "start", services.clock.now())

    @post(
        "/{order_id:str}/submit",
        summary="Submit the fix for verification (in progress → submitted; needs an after-photo)",
        status_code=200,
    )
    async def submit(
        self,
        order_id: FromPath[str],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
        data: JSONBody[NoteBody | None] = None,
    ) -> OrderOut:
        note = data.note if data else None
        return await rectification.transition(conn, caller, order_id, "submit", services.clock.now(), note=note)

    @post("/{order_id:str}/verify", summary="Accept the fix (supervisors; not the person who did it)", status_code=200)
    async def verify(
        self,
        order_id: FromPath[str],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
        data: JSONBody[VerifyBody | None] = None,
    ) -> OrderOut:
        seen = data.seen if data else None
        return await rectification.transition(conn, caller, order_id, "verify", services.clock.now(), seen=seen)

    @post(
        "/{order_id:str}/reject",
        summary="Send the fix back with a reason, optionally with a new deadline (supervisors)",
        status_code=200,
    )
    async def reject(
        self,
        order_id: FromPath[str],
        data: JSONBody[RejectBody],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
    ) -> OrderOut:
        return await rectification.transition(
            conn,
            caller,
            order_id,
            "reject",
            services.clock.now(),
            reason=data.reason,
            due_at=data.due_at,
            seen=data.seen,
        )
