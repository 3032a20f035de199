"""What the console's pages share: its sections (a property's, each only when its domain's plug-in is
registered), the frame every page renders in (the property in view, its tabs), and the property a page is about,
checked with the API's own scope rule: a supervisor sees the properties they are assigned to, an admin all of the
org's; anything else is a 404 page, whether it exists or not."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg
from litestar import Request
from litestar.response import Template

from api.pages.render import page
from bootstrap.services import Services
from core.access import Caller, require_property
from core.places import service as places
from core.places.models import Property

HOME = "/console"
# a property's sections: (section, its address under /console/properties/{id}, the plug-in it needs)
PROPERTY_SECTIONS: tuple[tuple[str, str, str | None], ...] = (
    ("board", "", "inspections"),
    ("review", "/review", "inspections"),
    ("evidence", "/evidence", "inspections"),
    ("kpis", "/kpis", "inspections"),
    ("surveys", "/surveys", "surveys"),
    ("reports", "/reports", None),
    ("setup", "/setup", "inspections"),
)


def property_home(property_id: str) -> str:
    return f"{HOME}/properties/{property_id}"


async def property_in_view(conn: asyncpg.Connection, manager: Caller, property_id: str) -> Property:
    """The property a console page is about, if the signed-in manager supervises it (NotFound otherwise)."""
    await require_property(conn, manager, property_id, "supervise")
    return await places.get_property(conn, manager, property_id)


def console_page(
    request: Request[Any, Any, Any],
    services: Services,
    manager: Caller,
    name: str,
    context: Mapping[str, Any],
    *,
    section: str,
    prop: Property | None = None,
    heading: str = "",
    status: int = 200,
) -> Template:
    """The template `name` in the console's frame: `prop` (the property in view, or None), its `tabs`, this
    page's `section`, `heading` (a text key), and `who` (the manager's role)."""
    return page(
        request,
        name,
        {**frame(services, manager, section, prop, heading), **context},
        status=status,
    )


def frame(
    services: Services, manager: Caller, section: str, prop: Property | None, heading: str = ""
) -> dict[str, Any]:
    tabs = []
    if prop is not None:
        base = property_home(prop.id)
        tabs = [
            (key, base + tail)
            for key, tail, domain in PROPERTY_SECTIONS
            if domain is None or services.registry.has(domain)
        ]
    return {
        "section": section,
        "prop": prop,
        "tabs": tabs,
        "heading": heading or f"console.nav.{section}",
        "who": manager.role,
    }
