"""The console's review queue (整改审核): a property's submitted rectification orders, the longest waiting first, and
one order with its photos before and after, its evidence flags (each dismissable: console_evidence.py), finding,
round and history, and the verdict forms. Every read and
every verdict is the inspections domain's (rectification.review_queue, transition; review.order_file): the same
scope, the same rule for who may decide, and the same refusals as the REST API. A verdict form carries the
submission it was drawn from (`seen`); one given after the order changed is refused (409) by the domain, under
the order's row lock, and the page says so. After each verdict the next order in the queue opens."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.deps import AppServices, Conn, Cursor
from api.errors import status_of
from api.pages.console import HOME, console_page, property_home, property_in_view
from api.pages.flag_words import dismissal_notice, flag_rows, open_flags
from api.pages.formats import local_time
from api.pages.lang import Lang, lang_of
from api.pages.render import wants_html
from api.pages.session import Manager
from api.pages.texts import in_lang, translator
from core.access import Caller
from core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from core.places.models import Property
from inspections import rectification, review
from inspections.evidence import flags
from inspections.schemas_work import OrderOut, ReviewItem

PAGE_SIZE = 20
# how far down the queue the next order is looked for after a verdict (past orders the manager may not decide)
LOOKAHEAD = 50
DONE = ("verified", "rejected")
Verdict = Literal["verify", "reject"]
THUMBS = 2  # of each purpose, in a queue row
UNREADABLE = "not a date and time"  # the page's own problem with a typed field (the domain's have their words)


def queue_url(property_id: str) -> str:
    return property_home(property_id) + "/review"


def order_url(order_id: str, **query: str) -> str:
    return f"{HOME}/orders/{order_id}" + (f"?{urlencode(query)}" if query else "")


def waiting(hours: float, t: Callable[..., str]) -> str:
    if hours < 1:
        return t("console.review.minutes", n=max(0, round(hours * 60)))
    whole = int(hours)
    return t("console.review.hours", h=whole) if whole < 24 else t("console.review.days", d=whole // 24, h=whole % 24)


def short(text: str, length: int = 60) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _where(order: OrderOut, around: review.Around, t: Callable[..., str]) -> str:
    checkpoint = around.checkpoints.get(order.checkpoint_id or "")
    parts = [part for part in (checkpoint, order.location) if part]
    return " · ".join(parts) or t("console.review.nowhere")


def _row(item: ReviewItem, around: review.Around, zone: str, lang: Lang) -> dict[str, Any]:
    t = translator(lang)
    order = item.order

    def ready(ids: list[str]) -> list[str]:
        return [i for i in ids if (photo := around.photos.get(i)) and photo.ready][:THUMBS]

    return {
        "id": order.id,
        "where": _where(order, around, t),
        "description": short(order.description, 120),
        "category": t(f"console.review.category.{order.category}"),
        "severity": order.severity,
        "by": around.names.get(order.submitted_by or "", t("console.review.someone")),
        "waiting": waiting(item.waiting_hours, t),
        "submitted": local_time(order.submitted_at, zone, lang) if order.submitted_at else "",
        "deadline": local_time(order.due_at, zone, lang) if order.due_at else "",
        "overdue": order.overdue,
        "before": ready(order.before_photo_ids),
        "after": ready(order.after_photo_ids),
        "can_verify": item.can_verify,
        "flags": open_flags(order.flags),
    }


async def _done(
    conn: asyncpg.Connection, manager: Caller, request: Request[Any, Any, Any], now: datetime
) -> dict[str, str]:
    """The notice of the verdict just given (`?done=verified&order=…`, set by the redirect after it)."""
    done, order_id = request.query_params.get("done"), request.query_params.get("order")
    if done not in DONE or not order_id:
        return {}
    t = translator(lang_of(request))
    try:
        what = short((await rectification.get_order(conn, manager, order_id, now)).description)
    except NotFound:  # an address typed by hand: the notice without the order's words
        what = t("console.review.done.order")
    return {"kind": done, "text": t(f"console.review.done.{done}", what=what), "order": order_id}


def _photos(ids: list[str], around: review.Around) -> list[dict[str, Any]]:
    shown = []
    for photo_id in ids:
        photo = around.photos.get(photo_id)
        shown.append(
            {"id": photo_id, "status": photo.status if photo else "pending", "ready": bool(photo and photo.ready)}
        )
    return shown


def _history(file: review.OrderFile, zone: str, lang: Lang) -> list[dict[str, Any]]:
    t = translator(lang)
    return [
        {
            "action": step.action,
            "when": local_time(step.at, zone, lang),
            "by": file.around.names.get(step.by or "", t("console.review.someone")) if step.by else "",
            "note": step.note or "",
            "reason": step.reason or "",
            "due_at": local_time(step.due_at, zone, lang) if step.due_at else "",
        }
        for step in file.history
    ]


async def show_order(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    services: AppServices,
    manager: Caller,
    order_id: str,
    *,
    refusal: str = "",
    problems: Mapping[str, str] | None = None,
    tried: Mapping[str, str] | None = None,
    flag_refused: Mapping[str, tuple[str, str]] | None = None,
    status: int = 200,
) -> Template:
    """The order page; `flag_refused`: a refused dismissal of one of its flags (flag id -> message, typed)."""
    now = services.clock.now()
    file = await review.order_file(conn, manager, order_id, now)  # NotFound: not the manager's to see
    prop = await property_in_view(conn, manager, file.order.property_id)  # another property's: a 404 page too
    lang = lang_of(request)
    t = translator(lang)
    order, zone = file.order, prop.timezone

    def when(moment: datetime | None) -> str:
        return local_time(moment, zone, lang) if moment else ""

    summary = None
    if file.round is not None:
        found = file.round
        summary = {
            "status": found.status,
            "route": found.route_name or "",
            "checklist": (found.checklist_zh if lang == "zh" else found.checklist_en) or "",
            "assignee": file.around.names.get(found.assignee_id, t("console.review.someone")),
            "window": " – ".join(w for w in (when(found.window_start), when(found.window_end)) if w),
        }
    context = {
        "order": order,
        "where": _where(order, file.around, t),
        "checkpoint": file.around.checkpoints.get(order.checkpoint_id or "", ""),
        "names": file.around.names,
        "before": _photos(order.before_photo_ids, file.around),
        "after": _photos(order.after_photo_ids, file.around),
        "submitted": when(order.submitted_at),
        "deadline": when(order.due_at),
        "first_deadline": when(order.original_due_at) if order.original_due_at != order.due_at else "",
        "round": summary,
        "history": _history(file, zone, lang),
        "can_decide": file.can_decide,
        "awaiting": order.status == "submitted",
        "seen": order.submitted_at.isoformat() if order.submitted_at else "",
        "previous_id": file.previous_id,
        "next_id": file.next_id,
        "zone": zone,
        "refusal": refusal,
        "problems": problems or {},
        "tried": {"reason": "", "due_at": "", **(tried or {})},
        "done": {} if refusal else await _done(conn, manager, request, now),
        "queue": queue_url(prop.id),
        "flags": flag_rows(
            order.flags,
            {**file.around.names, **await flags.people_named(conn, manager, order.flags)},
            zone,
            lang,
            refused=flag_refused,
        ),
        "flag_done": ""
        if flag_refused
        else await dismissal_notice(conn, manager, request.query_params.get("flag_done"), zone, lang),
    }
    return console_page(
        request,
        services,
        manager,
        "console/order.html",
        context,
        section="review",
        prop=prop,
        heading="console.review.order_title",
        status=status,
    )


def _instant(text: str, zone: str) -> datetime | None:
    """A wall-clock date and time typed in the property's zone (datetime-local's 2026-10-14T18:00) as a moment;
    None for nothing typed."""
    text = text.strip()
    if not text:
        return None
    try:
        typed = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"due_at: {UNREADABLE}", [FieldError(field="due_at", message=UNREADABLE)]) from None
    return typed.replace(tzinfo=ZoneInfo(zone)) if typed.tzinfo is None else typed


def _seen(text: str) -> datetime:
    try:
        seen = datetime.fromisoformat(text.strip())
    except ValueError:
        seen = None
    if seen is None or seen.tzinfo is None:
        raise Invalid(
            "seen: the form does not say which submission it was drawn from",
            [FieldError(field="seen", message=UNREADABLE)],
        )
    return seen


def _refusal(refused: Forbidden | Conflict | Invalid, lang: Lang) -> tuple[str, dict[str, str]]:
    """What the page says of a refused verdict, and the problem beside each field of the form."""
    t = translator(lang)
    if isinstance(refused, Forbidden):
        return t("console.review.refused.403"), {}
    if isinstance(refused, Conflict):
        if refused.code == "stale_order":
            return t("console.review.refused.409"), {}
        return in_lang(refused.detail, lang), {}
    problems = {}
    for error in refused.errors:
        if error.field == "reason":
            problems["reason"] = t("console.review.need.reason")
        elif error.field == "due_at":
            unreadable = error.message == UNREADABLE
            problems["due_at"] = t("console.review.due_at.bad" if unreadable else "console.review.need.due_at")
        elif error.field == "seen":
            problems["seen"] = t("console.review.seen.bad")
        else:
            problems[error.field] = in_lang(error.message, lang)
    return t(
        "console.review.refused.422", problems="；".join(problems.values()) or in_lang(refused.detail, lang)
    ), problems


async def next_in_queue(conn: asyncpg.Connection, manager: Caller, prop: Property, now: datetime) -> str | None:
    """The longest waiting order left that the manager may decide (orders of their own work are passed over)."""
    queue = await rectification.review_queue(conn, manager, prop.id, now, None, LOOKAHEAD)
    return next((item.order.id for item in queue.items if item.can_verify), None)


class ConsoleReviewPages(Controller):
    path = HOME
    include_in_schema = False

    @get("/properties/{property_id:str}/review")
    async def queue(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
        cursor: Cursor = None,
    ) -> Template:
        prop = await property_in_view(conn, manager, property_id)
        now = services.clock.now()
        lang = lang_of(request)
        found = await rectification.review_queue(conn, manager, property_id, now, cursor, PAGE_SIZE)
        around = await review.around(conn, manager, [item.order for item in found.items])
        rows = [_row(item, around, prop.timezone, lang) for item in found.items]
        first = next((row["id"] for row in rows if row["can_verify"]), None) if cursor is None else None
        context = {
            "rows": rows,
            "first": first,
            "next_cursor": found.next_cursor,
            "paged": cursor is not None,
            "done": await _done(conn, manager, request, now),
            "queue": queue_url(prop.id),
        }
        return console_page(request, services, manager, "console/review.html", context, section="review", prop=prop)

    @get("/orders/{order_id:str}")
    async def order(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Template:
        return await show_order(request, conn, services, manager, order_id)

    @post("/orders/{order_id:str}/{action:str}", status_code=303)
    async def decide(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[str],
        action: FromPath[Verdict],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Response[Any]:
        """`verify` or `reject` (send back, with a reason and perhaps a new deadline)."""
        form = await request.form()
        now = services.clock.now()
        order = await rectification.get_order(conn, manager, order_id, now)  # NotFound: a 404 page
        prop = await property_in_view(conn, manager, order.property_id)
        tried = {"reason": str(form.get("reason") or ""), "due_at": str(form.get("due_at") or "")}
        try:
            # a savepoint: a refused verdict keeps nothing, and the page is drawn from the order as it stands
            async with conn.transaction():
                seen = _seen(str(form.get("seen") or ""))
                if action == "verify":
                    await rectification.transition(conn, manager, order_id, "verify", now, seen=seen)
                else:
                    due_at = _instant(tried["due_at"], prop.timezone)
                    await rectification.transition(
                        conn, manager, order_id, "reject", now, reason=tried["reason"], due_at=due_at, seen=seen
                    )
        except (Forbidden, Conflict, Invalid) as refused:
            if not wants_html(request):  # an API client gets the problem as the API gives it
                raise
            message, problems = _refusal(refused, lang_of(request))
            status = status_of(refused)
            return await show_order(
                request,
                conn,
                services,
                manager,
                order_id,
                refusal=message,
                problems=problems,
                tried=tried,
                status=status,
            )
        done = {"done": "verified" if action == "verify" else "rejected", "order": order_id}
        following = await next_in_queue(conn, manager, prop, now)
        if following is None:
            return Redirect(f"{queue_url(prop.id)}?{urlencode(done)}", status_code=303)
        return Redirect(order_url(following, **done), status_code=303)
