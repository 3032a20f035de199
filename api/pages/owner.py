"""What the signed-in owner's pages share: their sections (a domain's only when its plug-in is registered), the
frame every section renders in, and times written in the property's zone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request
from litestar.response import Template

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
    sections = [(key, href) for key, href, domain in SECTIONS if domain is None or services.registry.has(domain)]
    return {"section": section, "sections": sections, "heading": heading or f"owner.nav.{section}"}
