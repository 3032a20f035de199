"""What the signed-in owner's pages share: their sections (a domain's only when its plug-in is registered), the
frame every section renders in, and times written in the property's zone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from litestar import Request
from litestar.response import Template

from api.pages.formats import local_time
from api.pages.lang import lang_of
from api.pages.render import page
from bootstrap.services import Services

HOME = "/owner"
# (section, its address, the plug-in it needs: None for the kernel's)
SECTIONS: tuple[tuple[str, str, str | None], ...] = (
    ("home", HOME, None),
    ("surveys", f"{HOME}/surveys", "surveys"),
    ("meetings", f"{HOME}/meetings", "meetings"),
    ("tickets", f"{HOME}/tickets", "servicedesk"),
    ("inbox", f"{HOME}/inbox", None),
)
DEFAULT_ZONE = "Asia/Shanghai"


def has_domain(services: Services, name: str) -> bool:
    return any(plugin.name == name for plugin in services.registry.plugins)


def owner_page(
    request: Request[Any, Any, Any],
    services: Services,
    name: str,
    section: str,
    context: Mapping[str, Any],
    *,
    heading: str = "",
) -> Template:
    return page(request, name, {**frame(services, section, heading), **context})


def frame(services: Services, section: str, heading: str = "") -> dict[str, Any]:
    """What the owner's tabs (templates/owner/tabs.html) need: the sections there are, and this page's."""
    sections = [(key, href) for key, href, domain in SECTIONS if domain is None or has_domain(services, domain)]
    return {"section": section, "sections": sections, "heading": heading or f"owner.nav.{section}"}


def when(request: Request[Any, Any, Any], moment: datetime | None, zone: str, *, with_time: bool = True) -> str:
    """A moment in the property's zone, as this page's language writes it ("" for none)."""
    return local_time(moment, zone, lang_of(request), with_time=with_time) if moment else ""
