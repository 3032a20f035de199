"""The console's evidence flags (证据): a property's section listing what the evidence checks flagged, newest first,
filtered by status and kind, a page at a time; and the dismissal of a flag, from that section or from the order
page it is shown on. Every read and the dismissal are inspections/evidence/flags.py's (the REST API's use cases:
the same scope, the same audit trail). A dismissal needs a reason: without one the page is drawn again with the
message beside the form (422) and nothing changes; with one, the redirect shows the flag dismissed, by whom, when
and why."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from api.deps import AppServices, Conn, Cursor
from api.pages.console import HOME, console_page, property_home, property_in_view
from api.pages.console_review import order_url, show_order
from api.pages.flag_words import dismissal_notice, flag_rows
from api.pages.forms import Refused, attempt, converted, form_text
from api.pages.lang import Lang, lang_of
from api.pages.session import Manager
from api.pages.texts import translator
from core.access import Caller
from core.errors import NotFound
from core.places.models import Property
from inspections.evidence import flags
from inspections.evidence.models import KINDS, Dismissal, Flag

PAGE_SIZE = 30
STATUSES = ("open", "dismissed", "all")
Text = Annotated[str | None, QueryParameter(required=False)]


def section_url(property_id: str, **query: str) -> str:
    kept = {k: v for k, v in query.items() if v}
    return property_home(property_id) + "/evidence" + (f"?{urlencode(kept)}" if kept else "")


def _filters(status: str | None, kind: str | None) -> tuple[str, str]:
    """The list's filters as asked, or their defaults: open flags of every kind (anything unknown is ignored)."""
    return (status if status in STATUSES else "open"), (kind if kind in KINDS else "")


async def dismiss_flag(
    conn: asyncpg.Connection, manager: Caller, flag_id: str, form: Mapping[str, Any], now: datetime, lang: Lang
) -> Flag:
    """The use case's dismissal with the form's reason; Refused beside the reason when there is none."""
    reason = form_text(form, ["reason"])["reason"]
    if not reason:
        raise Refused({"reason": translator(lang)("console.evidence.need_reason")})
    data = converted({"reason": reason}, Dismissal, lang)
    return await attempt(conn, lang, lambda: flags.dismiss(conn, manager, flag_id, data, now))


def beside(flag_id: str, refused: Refused, form: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """A refused dismissal as the flag's form shows it: its message, and the reason as typed."""
    return {flag_id: (next(iter(refused.errors.values())), form_text(form, ["reason"])["reason"])}


async def _section(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    services: AppServices,
    manager: Caller,
    prop: Property,
    status: str,
    kind: str,
    cursor: str | None,
    *,
    refused: Mapping[str, tuple[str, str]] | None = None,
    code: int = 200,
) -> Template:
    lang = lang_of(request)
    found = await flags.list_flags(
        conn, manager, prop.id, status=None if status == "all" else status, kind=kind or None, cursor=cursor,
        limit=PAGE_SIZE,
    )  # fmt: skip
    names = await flags.people_named(conn, manager, found.items)
    context = {
        "rows": flag_rows(found.items, names, prop.timezone, lang, refused=refused),
        "status": status,
        "kind": kind,
        "statuses": STATUSES,
        "kinds": [(key, zh, en) for key, (zh, en, _) in KINDS.items()],
        "cursor": cursor or "",
        "next_cursor": found.next_cursor,
        "here": section_url(prop.id, status=status, kind=kind),
        "base": property_home(prop.id),
        "done": ""
        if refused
        else await dismissal_notice(conn, manager, request.query_params.get("done"), prop.timezone, lang),
    }
    return console_page(
        request,
        services,
        manager,
        "console/evidence.html",
        context,
        section="evidence",
        prop=prop,
        heading="console.evidence.title",
        status=code,
    )


class ConsoleEvidencePages(Controller):
    path = HOME
    include_in_schema = False

    @get("/properties/{property_id:str}/evidence")
    async def section(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
        status: Text = None,
        kind: Text = None,
        cursor: Cursor = None,
    ) -> Template:
        prop = await property_in_view(conn, manager, property_id)
        shown, of_kind = _filters(status, kind)
        return await _section(request, conn, services, manager, prop, shown, of_kind, cursor)

    @post("/properties/{property_id:str}/evidence/{flag_id:str}/dismiss", status_code=303)
    async def dismiss_listed(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        flag_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Response[Any]:
        """A flag of the section dismissed; back to the list as it was filtered."""
        prop = await property_in_view(conn, manager, property_id)
        if (await flags.get_flag(conn, manager, flag_id)).property_id != prop.id:
            raise NotFound(f"flag {flag_id} not found", entity="evidence_flag", id=flag_id)
        form = await request.form()
        status, kind = _filters(str(form.get("status") or ""), str(form.get("kind") or ""))
        cursor = str(form.get("cursor") or "") or None
        lang = lang_of(request)
        try:
            await dismiss_flag(conn, manager, flag_id, form, services.clock.now(), lang)
        except Refused as refused:
            return await _section(
                request, conn, services, manager, prop, status, kind, cursor,
                refused=beside(flag_id, refused, form), code=refused.status,
            )  # fmt: skip
        back = section_url(prop.id, status=status, kind=kind, cursor=cursor or "", done=flag_id)
        return Redirect(back, status_code=303)

    @post("/orders/{order_id:str}/flags/{flag_id:str}/dismiss", status_code=303)
    async def dismiss_on_order(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[str],
        flag_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Response[Any]:
        """A flag shown with an order dismissed; back to the order, the flag there as dismissed."""
        if (await flags.get_flag(conn, manager, flag_id)).order_id != order_id:
            raise NotFound(f"flag {flag_id} not found", entity="evidence_flag", id=flag_id)
        form = await request.form()
        try:
            await dismiss_flag(conn, manager, flag_id, form, services.clock.now(), lang_of(request))
        except Refused as refused:
            return await show_order(
                request, conn, services, manager, order_id, flag_refused=beside(flag_id, refused, form),
                status=refused.status,
            )  # fmt: skip
        return Redirect(order_url(order_id, flag_done=flag_id) + f"#flag-{flag_id}", status_code=303)
