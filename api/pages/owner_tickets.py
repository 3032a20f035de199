"""A signed-in owner's tickets (工单) in the browser: the list, one ticket with its public timeline, photos and the
steps the owner may take now. Everything goes through the REST use cases (servicedesk/tickets.py): the same
visibility (another household's ticket is not found), the same steps (`tickets.step`, with a step id made when
the page is drawn, so a form sent twice takes one step). A step the rules refuse is said on the page with the
status the API gives (403, 409, 422), nothing changed. The filing form is api/pages/owner_ticket_form.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.deps import AppServices, Conn, Cursor
from api.errors import status_of
from api.pages.formats import local_time
from api.pages.lang import Lang, lang_of
from api.pages.owner import frame
from api.pages.render import page
from api.pages.session import Owner
from api.pages.texts import in_lang, translator
from core.access import Caller
from core.errors import Conflict, DomainError, Forbidden, Invalid
from core.ids import new_id
from core.places.households import Household
from servicedesk import owners, tickets
from servicedesk.ledger import WORDS
from servicedesk.schemas import EventOut, StepIn, TicketOut

PAGE_SIZE = 20
# the steps an owner takes from these pages, in the order they are offered (lifecycle.MAY says who may take which)
OWNER_STEPS = ("confirm", "dispute", "visit", "note")
DONE = {*OWNER_STEPS, "filed"}
FINISHED = ("resolved", "confirmed", "closed")


def word(column: str, value: str | None, lang: Lang) -> str:
    """A kind, category, status or channel in words (the service desk's own names)."""
    if value is None:
        return ""
    names = WORDS[column].get(value)
    if names is None:
        return value
    return names[0] if lang == "zh" else names[1][:1].upper() + names[1][1:]


def late(due: datetime | None, done: datetime | None, now: datetime) -> bool:
    """The promise in force has passed: kept after it, or not kept and it is past."""
    return due is not None and (done > due if done is not None else now > due)


def lateness(ticket: TicketOut, now: datetime) -> tuple[bool, bool]:
    """(response late, resolution late), judged against the promises in force (the ones the owner was told). A
    response is the first contact, or the resolution when none was recorded; a reopened ticket is not resolved."""
    resolved = ticket.resolved_at if ticket.status in FINISHED else None
    responded = ticket.responded_at or resolved
    return late(ticket.respond_due_at, responded, now), late(ticket.resolve_due_at, resolved, now)


def summary(ticket: TicketOut, zone: str, lang: Lang, now: datetime) -> dict[str, Any]:
    """What the list shows of a ticket (the detail page adds the rest)."""
    respond_late, resolve_late = lateness(ticket, now)
    return {
        "id": ticket.id,
        "kind": word("kind", ticket.kind, lang),
        "category": word("category", ticket.category, lang),
        "status": word("status", ticket.status, lang),
        "state": ticket.status,
        "description": ticket.description if len(ticket.description) <= 80 else ticket.description[:78] + "…",
        "filed": local_time(ticket.received_at, zone, lang),
        "respond_by": local_time(ticket.respond_due_at, zone, lang) if ticket.respond_due_at else "",
        "resolve_by": local_time(ticket.resolve_due_at, zone, lang) if ticket.resolve_due_at else "",
        "respond_late": respond_late,
        "resolve_late": resolve_late,
    }


def _event(event: EventOut, zone: str, lang: Lang) -> dict[str, Any]:
    refusal = event.refusal_zh if lang == "zh" else event.refusal_en
    return {
        "action": event.action,
        "when": local_time(event.created_at, zone, lang),
        "body": event.body or "",
        "rating": event.rating,
        "refused": refusal or "" if event.outcome == "refused" else "",
        "pending": event.outcome == "pending",
    }


def _where(ticket: TicketOut, homes: Mapping[str, Household], t: Callable[..., str]) -> str:
    home = homes.get(ticket.unit_id or "")
    if home is not None:
        return f"{home.property_name} {home.label}"
    return ticket.location or (t("ticket.household") if ticket.unit_id else "")


def _refusal(refused: DomainError, ticket: TicketOut, lang: Lang) -> str:
    t = translator(lang)
    if isinstance(refused, Forbidden):
        return t("step.refused.403")
    if isinstance(refused, Invalid):
        problems = [
            t(f"need.{e.field}") if e.field in ("note", "rating") else in_lang(e.message, lang) for e in refused.errors
        ]
        return t("step.refused.422", problems="；".join(problems) or in_lang(refused.detail, lang))
    return t("step.refused.409", state=word("status", str(refused.extra.get("state") or ticket.status), lang))


async def show_ticket(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    owner: Caller,
    ticket_id: str,
    now: datetime,
    *,
    refusal: str = "",
    tried: Mapping[str, str] | None = None,
    status: int = 200,
) -> Template:
    lang = lang_of(request)
    t = translator(lang)
    ticket = await tickets.ticket_out(conn, owner, ticket_id)  # NotFound: another household's, the same 404
    zone = (await owners.zones(conn, owner, [ticket.property_id]))[ticket.property_id]
    homes = {home.unit_id: home for home in await owners.households(conn, owner)}
    photos = await owners.ticket_photos(conn, owner, ticket)
    done = request.query_params.get("done")

    def when(moment: datetime | None) -> str:
        return local_time(moment, zone, lang) if moment else ""

    respond_late, resolve_late = lateness(ticket, now)
    return page(
        request,
        "owner/ticket.html",
        {
            **frame(request.app.state.services, "tickets"),
            "ticket": ticket,
            "kind": word("kind", ticket.kind, lang),
            "category": word("category", ticket.category, lang),
            "status": word("status", ticket.status, lang),
            "channel": word("channel", ticket.channel, lang),
            "where": _where(ticket, homes, t),
            "who": t("ticket.you") if ticket.reported_by == owner.user_id else (ticket.caller_name or ""),
            "occurred": when(ticket.occurred_at),
            "received": when(ticket.received_at),
            "respond_due": when(ticket.respond_due_at),
            "respond_was": when(ticket.respond_due_original)
            if ticket.respond_due_original != ticket.respond_due_at
            else "",
            "resolve_due": when(ticket.resolve_due_at),
            "resolve_was": when(ticket.resolve_due_original)
            if ticket.resolve_due_original != ticket.resolve_due_at
            else "",
            "respond_late": respond_late,
            "resolve_late": resolve_late,
            "timeline": [_event(event, zone, lang) for event in ticket.timeline or []],
            "photos": [photo for photo in photos if photo.status != "rejected"],
            "steps": [action for action in OWNER_STEPS if action in ticket.allowed],
            "step_ids": {action: new_id() for action in OWNER_STEPS},
            "tried": tried or {},
            "done": done if done in DONE and not refusal else "",
            "refusal": refusal,
        },
        status=status,
        lang=lang,
    )


def _step_of(form: Mapping[str, Any]) -> StepIn:
    """The step a form asks for; a form that is not one of ours is refused as a 422 on its action."""
    rating = str(form.get("rating") or "").strip()
    action = str(form.get("action") or "")
    body = {
        "action": action,
        "id": str(form.get("id") or "") or None,
        "note": str(form.get("note") or "").strip() or None,
        "rating": int(rating) if rating.isdigit() else None,
        "channel": "web" if action == "visit" else None,
    }
    if action not in OWNER_STEPS:
        raise Invalid("action: not a step of this page", field="action")
    try:
        return msgspec.convert(body, StepIn)
    except msgspec.ValidationError as wrong:
        raise Invalid(f"{wrong} / 填写有误") from None


class OwnerTicketPages(Controller):
    path = "/owner/tickets"
    include_in_schema = False

    @get("/")
    async def list_tickets(
        self, request: Request[Any, Any, Any], owner: Owner, conn: Conn, services: AppServices, cursor: Cursor = None
    ) -> Template:
        lang = lang_of(request)
        now = services.clock.now()
        found = await tickets.my_tickets(conn, owner, {}, cursor, PAGE_SIZE)
        zones = await owners.zones(conn, owner, [ticket.property_id for ticket in found.items])
        return page(
            request,
            "owner/tickets.html",
            {
                **frame(services, "tickets"),
                "tickets": [summary(ticket, zones[ticket.property_id], lang, now) for ticket in found.items],
                "next_cursor": found.next_cursor,
                "paged": cursor is not None,
            },
            lang=lang,
        )

    @get("/{ticket_id:str}")
    async def detail(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str], owner: Owner, conn: Conn, services: AppServices
    ) -> Template:
        return await show_ticket(request, conn, owner, ticket_id, services.clock.now())

    @post("/{ticket_id:str}/steps", status_code=303)
    async def step(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str], owner: Owner, conn: Conn, services: AppServices
    ) -> Response[Any]:
        form = await request.form()
        now = services.clock.now()
        try:
            body = _step_of(form)
            # the rules refuse before anything is written; the request's transaction keeps nothing of a refusal
            await tickets.step(conn, owner, ticket_id, body, now, services.settings.ticket_visit_days)
        except (Forbidden, Conflict, Invalid) as refused:
            ticket = await tickets.ticket_out(conn, owner, ticket_id)
            status = status_of(refused)
            tried = {"action": str(form.get("action") or ""), "note": str(form.get("note") or "")}
            message = _refusal(refused, ticket, lang_of(request))
            return await show_ticket(request, conn, owner, ticket_id, now, refusal=message, tried=tried, status=status)
        return Redirect(f"/owner/tickets/{ticket_id}?done={body.action}", status_code=303)
