"""Users, staff assignments, owner links and owner invitations."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from api.deps import AppServices, Conn, CurrentCaller, Cursor, PageLimit
from api.guards import ADMIN, SUPERVISOR, in_property_scope
from core.people import service
from core.people.models import Invitation, User
from core.people.schemas import UserCreate, UserUpdate
from core.structs import Page
from core.vocabulary import Role


class UserController(Controller):
    path = "/users"
    tags = ["people"]

    @get("/", guards=[SUPERVISOR], summary="People (admins: everyone; supervisors: the people of their properties)")
    async def list_users(
        self,
        caller: CurrentCaller,
        conn: Conn,
        role: FromQuery[Role | None] = None,
        cursor: Cursor = None,
        limit: PageLimit = 100,
    ) -> Page[User]:
        return await service.list_users(conn, caller, role, cursor, limit)

    @post("/", guards=[ADMIN], summary="Create a person (admin)")
    async def create_user(self, data: JSONBody[UserCreate], caller: CurrentCaller, conn: Conn) -> User:
        return await service.create_user(conn, caller, data)

    @get("/{user_id:str}")
    async def get_user(self, user_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> User:
        return await service.get_user(conn, caller, user_id)

    @patch(
        "/{user_id:str}",
        summary="Change a person; a role change or deactivation ends their sessions (admin)",
    )
    async def update_user(
        self,
        user_id: FromPath[str],
        data: JSONBody[UserUpdate],
        caller: CurrentCaller,
        services: AppServices,
        conn: Conn,
    ) -> User:
        return await service.update_user(conn, caller, user_id, data, services.clock.now())

    @post(
        "/{user_id:str}/invitation",
        status_code=201,
        summary="Issue an owner's activation code; earlier codes stop working (admin or supervisor)",
    )
    async def invite(
        self, user_id: FromPath[str], caller: CurrentCaller, services: AppServices, conn: Conn
    ) -> Invitation:
        return await service.issue_invitation(
            conn, caller, user_id, now=services.clock.now(), ttl=services.settings.invitation_ttl
        )


class StaffController(Controller):
    path = "/properties/{property_id:str}/staff"
    tags = ["people"]
    guards = [in_property_scope]

    @get("/", summary="Staff and supervisors assigned to a property")
    async def list_staff(self, property_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> list[User]:
        return await service.property_staff(conn, caller, property_id)

    @put(
        "/{user_id:str}",
        guards=[ADMIN],
        summary="Assign a staff member or supervisor to the property (admin); idempotent",
    )
    async def assign(
        self, property_id: FromPath[str], user_id: FromPath[str], caller: CurrentCaller, conn: Conn
    ) -> User:
        return await service.assign_staff(conn, caller, property_id, user_id)

    @delete("/{user_id:str}", summary="Unassign (admin)")
    async def unassign(
        self, property_id: FromPath[str], user_id: FromPath[str], caller: CurrentCaller, conn: Conn
    ) -> None:
        await service.unassign_staff(conn, caller, property_id, user_id)


class OwnerController(Controller):
    path = "/units/{unit_id:str}/owners"
    tags = ["people"]

    @get("/", summary="Owners of a unit")
    async def list_owners(self, unit_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> list[User]:
        return await service.unit_owners(conn, caller, unit_id)

    @put("/{user_id:str}", summary="Link an owner to the unit (admin or supervisor); idempotent")
    async def link(self, unit_id: FromPath[str], user_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> User:
        return await service.link_owner(conn, caller, unit_id, user_id)

    @delete("/{user_id:str}", summary="Unlink an owner (admin or supervisor)")
    async def unlink(self, unit_id: FromPath[str], user_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> None:
        await service.unlink_owner(conn, caller, unit_id, user_id)
