"""The service desk (工单): filing tickets (owners, the front desk, the hotline), the lists people work from, a
ticket with its timeline, its steps, and what a property promises and who its tickets go to. Phones do the same
through sync (servicedesk/synced.py)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from api.deps import AppServices, Conn, CurrentCaller, Cursor, PageLimit
from api.guards import STAFF, SUPERVISOR, in_property_scope
from core.structs import Page
from servicedesk import assignees, promises, tickets
from servicedesk.models import Kind, Status
from servicedesk.schemas import AssigneeOut, AssigneeSet, PromiseOut, PromiseSet, StepIn, TicketCreate, TicketOut

StatusFilter = Annotated[Status | None, QueryParameter(description="only tickets in this status")]
KindFilter = Annotated[Kind | None, QueryParameter(description="only tickets of this kind")]


class PropertyTicketController(Controller):
    path = "/properties/{property_id:str}"
    tags = ["service desk"]
    guards = [in_property_scope]

    @post(
        "/tickets",
        summary="File a ticket: an owner for their household (app or web), staff for a caller (front desk, hotline)",
        description="201 when filed; the same `id` sent again answers 200 with the ticket it filed.",
    )
    async def file(
        self,
        property_id: FromPath[str],
        data: JSONBody[TicketCreate],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
    ) -> Response[TicketOut]:
        ticket, fresh = await tickets.file_ticket(conn, caller, property_id, data, services.clock.now())
        return Response(ticket, status_code=201 if fresh else 200)

    @get("/tickets", guards=[STAFF], summary="A property's tickets, newest first (its staff)")
    async def list_all(
        self,
        property_id: FromPath[str],
        caller: CurrentCaller,
        conn: Conn,
        status: StatusFilter = None,
        kind: KindFilter = None,
        unit_id: Annotated[str | None, QueryParameter(description="only this household's")] = None,
        responsible_id: Annotated[str | None, QueryParameter(description="only those assigned to this person")] = None,
        cursor: Cursor = None,
        limit: PageLimit = 100,
    ) -> Page[TicketOut]:
        filters = {"status": status, "kind": kind, "unit_id": unit_id, "responsible_id": responsible_id}
        return await tickets.property_tickets(conn, caller, property_id, filters, cursor, limit)

    @get("/ticket-promises", guards=[STAFF], summary="What the property promises: minutes to respond and to resolve")
    async def list_promises(self, property_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> list[PromiseOut]:
        return await promises.list_promises(conn, caller, property_id)

    @put(
        "/ticket-promises/{kind:str}/{category:str}",
        guards=[SUPERVISOR],
        summary="Set a promise for a kind and category (`*`: every category of the kind)",
    )
    async def set_promise(
        self,
        property_id: FromPath[str],
        kind: FromPath[str],
        category: FromPath[str],
        data: JSONBody[PromiseSet],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
    ) -> PromiseOut:
        return await promises.set_promise(conn, caller, property_id, kind, category, data, services.clock.now())

    @delete("/ticket-promises/{kind:str}/{category:str}", guards=[SUPERVISOR], summary="Back to the default")
    async def remove_promise(
        self,
        property_id: FromPath[str],
        kind: FromPath[str],
        category: FromPath[str],
        caller: CurrentCaller,
        conn: Conn,
    ) -> None:
        await promises.remove_promise(conn, caller, property_id, kind, category)

    @get("/ticket-assignees", guards=[STAFF], summary="Who the property's tickets go to, by category")
    async def list_assignees(self, property_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> list[AssigneeOut]:
        return await assignees.list_assignees(conn, caller, property_id)

    @put("/ticket-assignees/{category:str}", guards=[SUPERVISOR], summary="Set who a category's tickets go to")
    async def set_assignee(
        self,
        property_id: FromPath[str],
        category: FromPath[str],
        data: JSONBody[AssigneeSet],
        caller: CurrentCaller,
        conn: Conn,
    ) -> AssigneeOut:
        return await assignees.set_assignee(conn, caller, property_id, category, data)

    @delete("/ticket-assignees/{category:str}", guards=[SUPERVISOR], summary="Remove a category's default person")
    async def remove_assignee(
        self, property_id: FromPath[str], category: FromPath[str], caller: CurrentCaller, conn: Conn
    ) -> None:
        await assignees.remove_assignee(conn, caller, property_id, category)


class TicketController(Controller):
    path = "/tickets"
    tags = ["service desk"]

    @get(
        "/",
        summary="My tickets: an owner's households' (and those they filed); staff's, those assigned to them",
    )
    async def mine(
        self,
        caller: CurrentCaller,
        conn: Conn,
        status: StatusFilter = None,
        kind: KindFilter = None,
        cursor: Cursor = None,
        limit: PageLimit = 100,
    ) -> Page[TicketOut]:
        return await tickets.my_tickets(conn, caller, {"status": status, "kind": kind}, cursor, limit)

    @get("/{ticket_id:str}", summary="A ticket with its timeline (owners: the public steps and notes)")
    async def get_one(self, ticket_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> TicketOut:
        return await tickets.ticket_out(conn, caller, ticket_id)

    @post(
        "/{ticket_id:str}/steps",
        status_code=200,
        summary="Take a step: accept, decline, assign, respond, resolve, confirm, dispute, visit, close, extend, note",
        description=(
            "A step the ticket's status does not allow answers 409 with `allowed`, the steps the caller may take "
            "now; a step the caller may never take (an owner resolving) answers 403. Owners may confirm, dispute, "
            "rate the return visit (`visit`) and add notes."
        ),
    )
    async def step(
        self, ticket_id: FromPath[str], data: JSONBody[StepIn], caller: CurrentCaller, conn: Conn, services: AppServices
    ) -> TicketOut:
        return await tickets.step(
            conn, caller, ticket_id, data, services.clock.now(), services.settings.ticket_visit_days
        )
