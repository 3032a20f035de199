"""People at the console: a property's staff and supervisors, assigned and unassigned there (setup section), and
the org's people (`/console/people`: the admins' list, new staff and supervisor accounts with a first password,
accounts disabled and enabled again). Every read and change is core/people/service.py's use case, as
api/routes/people.py calls it: admins change, supervisors read what the API lets them read, and anything else
is the domain's refusal (a 403 page, nothing changed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.deps import AppServices, Conn
from api.pages.console import HOME, console_page, property_in_view
from api.pages.console_setup import LISTED, setup_home, setup_page
from api.pages.forms import Refused, attempt, converted, form_text
from api.pages.lang import lang_of
from api.pages.session import Manager
from bootstrap.services import Services
from core.access import Caller
from core.people import service as people
from core.people.schemas import UserCreate, UserUpdate

USER_FIELDS = ("name", "role", "email", "phone", "password")
ROLES = ("staff", "supervisor")


async def _everyone(conn: asyncpg.Connection, manager: Caller) -> list[Any]:
    """The people who work for the org (owners are many, and are the properties' households, not staff)."""
    found = []
    for role in ("admin", "supervisor", "staff"):
        found += (await people.list_users(conn, manager, role, None, LISTED)).items
    return found


class ConsolePropertyPeople(Controller):
    path = "/console/properties/{property_id:str}/setup/people"
    include_in_schema = False

    @get("/")
    async def staff(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Template:
        prop = await property_in_view(conn, manager, property_id)
        assigned = await people.property_staff(conn, manager, property_id)
        here = {p.id for p in assigned}
        # who could be assigned: only an admin may assign, and only an admin lists the whole org
        others = (
            [p for p in await _everyone(conn, manager) if p.role in ROLES and p.active and p.id not in here]
            if manager.is_admin
            else []
        )
        context = {"assigned": assigned, "others": others, "done": request.query_params.get("done", "")}
        return setup_page(request, services, manager, prop, "setup_people.html", context, "console.setup.people")

    @post("/", status_code=303)
    async def assign(
        self, request: Request[Any, Any, Any], property_id: FromPath[str], manager: Manager, conn: Conn
    ) -> Redirect:
        await property_in_view(conn, manager, property_id)
        user_id = str((await request.form()).get("user_id") or "")
        await people.assign_staff(conn, manager, property_id, user_id)
        return Redirect(f"{setup_home(property_id)}/people?done=assigned", status_code=303)

    @post("/{user_id:str}/unassign", status_code=303)
    async def unassign(
        self, property_id: FromPath[str], user_id: FromPath[str], manager: Manager, conn: Conn
    ) -> Redirect:
        await property_in_view(conn, manager, property_id)
        await people.unassign_staff(conn, manager, property_id, user_id)
        return Redirect(f"{setup_home(property_id)}/people?done=unassigned", status_code=303)


class ConsoleOrgPeople(Controller):
    path = f"{HOME}/people"
    include_in_schema = False

    async def _page(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        services: Services,
        manager: Caller,
        values: Mapping[str, str] | None = None,
        errors: Mapping[str, str] | None = None,
        status: int = 200,
    ) -> Template:
        context = {
            "everyone": await _everyone(conn, manager),
            "values": values or {**dict.fromkeys(USER_FIELDS, ""), "role": "staff"},
            "errors": errors or {},
            "roles": ROLES,
            "done": request.query_params.get("done", ""),
        }
        return console_page(
            request,
            services,
            manager,
            "console/setup_org_people.html",
            context,
            section="people",
            heading="console.setup.nav.people",
            status=status,
        )

    @get("/")
    async def everyone(
        self, request: Request[Any, Any, Any], manager: Manager, conn: Conn, services: AppServices
    ) -> Template:
        return await self._page(request, conn, services, manager)

    @post("/", status_code=303)
    async def create(
        self, request: Request[Any, Any, Any], manager: Manager, conn: Conn, services: AppServices
    ) -> Response[Any]:
        lang = lang_of(request)
        form = await request.form()
        values = form_text(form, USER_FIELDS)
        try:
            data = converted({k: v for k, v in values.items() if v}, UserCreate, lang)
            await attempt(conn, lang, lambda: people.create_user(conn, manager, data))
        except Refused as refused:
            kept = {**values, "password": ""}  # a password is never sent back in a page
            return await self._page(request, conn, services, manager, kept, refused.errors, refused.status)
        return Redirect(f"{HOME}/people?done=created", status_code=303)

    @post("/{user_id:str}/active", status_code=303)
    async def active(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Response[Any]:
        active = (await request.form()).get("active") == "1"
        await people.update_user(conn, manager, user_id, UserUpdate(active=active), services.clock.now())
        return Redirect(f"{HOME}/people?done={'enabled' if active else 'disabled'}", status_code=303)
