"""The life of a ticket, as rules (pure, no I/O): who may take which step from which status, and what the step
changes. The use cases (servicedesk/tickets.py) gather what a rule needs (the promise, the after-photos, who the
caller is to the ticket), call `decide`, and write what it says; the REST API and sync pushes go through them.

received → accepted | declined; accepted → assigned → responded → resolved → confirmed (or disputed: back to
assigned, a reopen) → return visit (a rating of 3 or more closes it; 2 or less is a reopen) → closed. A supervisor
may also close a resolved ticket without a visit (the return-visit coverage says so), and extend a deadline (the
first one is kept beside it). Notes fit anywhere.

Refusals come in a fixed order: who first (an owner asking for a step only staff take is 403, whatever the
status), then the status (409, naming the steps the caller may take from it), then the request's fields (422).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from core.errors import Conflict, FieldError, Forbidden, Invalid
from core.structs import Frozen
from servicedesk.models import ACTIONS, Action, Status, Ticket, VisitChannel, Which

# the caller's standing on a ticket: one of its household's owners (or who filed it), staff of its property, a
# supervisor of its property (or an admin), or the worker (auto-confirmation)
Standing = Literal["owner", "staff", "supervisor", "system"]

OPEN: frozenset[Status] = frozenset({"accepted", "assigned", "responded"})
SETTLING: frozenset[Status] = frozenset({"resolved", "confirmed"})
ALL: frozenset[Status] = frozenset(
    {"received", "accepted", "declined", "assigned", "responded", "resolved", "confirmed", "closed"}
)

FROM: dict[Action, frozenset[Status]] = {
    "accept": frozenset({"received"}),
    "decline": frozenset({"received"}),
    "assign": OPEN,
    "respond": frozenset({"assigned"}),
    "resolve": frozenset({"assigned", "responded"}),
    "confirm": frozenset({"resolved"}),
    "dispute": frozenset({"resolved"}),
    "visit": SETTLING,
    "close": SETTLING,
    "extend": OPEN,
    "note": ALL,
}
_STAFF: frozenset[Standing] = frozenset({"staff", "supervisor"})
_ANYONE: frozenset[Standing] = frozenset({"owner", "staff", "supervisor"})
MAY: dict[Action, frozenset[Standing]] = {
    "accept": _STAFF,
    "decline": _STAFF,
    "assign": _STAFF,
    "respond": _STAFF,
    "resolve": _STAFF,
    # staff record what the owner said on the telephone; the worker confirms for a silent owner
    "confirm": frozenset({"owner", "staff", "supervisor", "system"}),
    "dispute": _ANYONE,
    "visit": _ANYONE,
    "close": frozenset({"supervisor"}),
    "extend": frozenset({"supervisor"}),
    "note": _ANYONE,
}
# steps that need words: the field they go in
NEEDS_NOTE: dict[Action, str] = {
    "decline": "the reason the owner will read",
    "resolve": "what was done",
    "dispute": "what is still wrong",
    "extend": "why the deadline moves (the owner reads it)",
    "note": "the note",
}
LOW_RATING = 2


class Actor(Frozen, frozen=True):
    user_id: str | None  # None: the worker
    standing: Standing


class Request(Frozen, frozen=True):
    """What a step asks for, as the use case has checked it (the assignee exists, the duplicate is a ticket of the
    same property)."""

    note: str | None = None
    rating: int | None = None
    assignee_id: str | None = None
    duplicate_of: str | None = None
    which: Which | None = None
    due_at: datetime | None = None
    channel: VisitChannel | None = None
    public: bool = True


class Context(Frozen, frozen=True):
    """What the rules read beside the ticket: the promise in minutes (to accept), the after-photos (to resolve),
    the days to the return visit."""

    respond_minutes: int | None = None
    resolve_minutes: int | None = None
    after_photos: int = 0
    visit_days: int = 3


class Step(Frozen, frozen=True):
    action: Action
    status_before: Status
    status_after: Status
    changes: dict[str, Any]
    reopened: bool = False
    public: bool = True


def allowed(ticket: Ticket, actor: Actor) -> list[Action]:
    """The steps `actor` may take on the ticket as it stands."""
    return [a for a in ACTIONS if ticket.status in FROM[a] and actor.standing in MAY[a] and _may_work(ticket, actor, a)]


def _may_work(ticket: Ticket, actor: Actor, action: Action) -> bool:
    # the work itself is the responsible person's (or a supervisor's)
    if action in ("respond", "resolve"):
        return actor.standing == "supervisor" or actor.user_id == ticket.responsible_id
    return True


def _where(ticket: Ticket) -> dict[str, Any]:
    return {"table": "tickets", "id": ticket.id}


def _required(ticket: Ticket, field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", [FieldError(field=field, message=message)], **_where(ticket))


def permit(ticket: Ticket, action: Action, actor: Actor) -> None:
    """Raise unless `actor` may take `action` on the ticket as it stands (who, then the status): checked before
    anything the request names is looked at."""
    if actor.standing not in MAY[action]:
        who = "a supervisor of this property" if MAY[action] == {"supervisor"} else "the property's staff"
        raise Forbidden(f"only {who} can {action} a ticket", action=action, **_where(ticket))
    if not _may_work(ticket, actor, action):
        raise Forbidden(
            f"ticket {ticket.id} is not assigned to you: the person responsible or a supervisor may {action} it",
            action=action,
            **_where(ticket),
        )
    if ticket.status not in FROM[action]:
        raise Conflict(
            f"cannot {action} ticket {ticket.id}: it is {ticket.status}",
            state=ticket.status,
            action=action,
            allowed=allowed(ticket, actor),
            **_where(ticket),
        )


def decide(ticket: Ticket, action: Action, actor: Actor, now: datetime, request: Request, context: Context) -> Step:
    """The step `action` by `actor` makes on `ticket`; raises when the rules refuse it."""
    permit(ticket, action, actor)
    note = (request.note or "").strip() or None
    if action in NEEDS_NOTE and note is None:
        raise _required(ticket, "note", f"required: {NEEDS_NOTE[action]}")
    status, changes, reopened = _apply(ticket, action, actor, now, request, context, note)
    public = request.public or actor.standing == "owner" or action != "note"
    return Step(
        action=action,
        status_before=ticket.status,
        status_after=status,
        changes=changes if status == ticket.status else {"status": status, **changes},
        reopened=reopened,
        public=public,
    )


def _apply(
    ticket: Ticket, action: Action, actor: Actor, now: datetime, request: Request, context: Context, note: str | None
) -> tuple[Status, dict[str, Any], bool]:
    """The status after the step, the columns it sets, whether it reopens the ticket."""
    by = actor.user_id
    match action:
        case "accept":
            if context.respond_minutes is None or context.resolve_minutes is None:
                raise AssertionError("accepting needs the promise")  # the use case always looks it up
            respond = ticket.received_at + timedelta(minutes=context.respond_minutes)
            resolve = ticket.received_at + timedelta(minutes=context.resolve_minutes)
            return (
                "accepted",
                {
                    "accepted_at": now,
                    "accepted_by": by,
                    "respond_due_at": respond,
                    "respond_due_original": respond,
                    "resolve_due_at": resolve,
                    "resolve_due_original": resolve,
                },
                False,
            )
        case "decline":
            return "declined", {"decline_reason": note, "duplicate_of": request.duplicate_of, "closed_at": now}, False
        case "assign":
            if request.assignee_id is None:
                raise _required(ticket, "assignee_id", "name the person (no default is set for this category)")
            status: Status = "assigned" if ticket.status == "accepted" else ticket.status
            return status, {"responsible_id": request.assignee_id, "assigned_at": now}, False
        case "respond":
            return "responded", {"responded_at": now, "responded_by": by}, False
        case "resolve":
            if ticket.kind == "repair" and context.after_photos < 1:
                raise _required(ticket, "photos", "attach an 'after' photo of the repair before resolving it")
            changes: dict[str, Any] = {
                "resolved_at": now,
                "resolved_by": by,
                "resolution_note": note,
                "visit_due_at": now + timedelta(days=context.visit_days),
                "confirmed_at": None,
                "confirmed_via": None,
            }
            if ticket.responded_at is None:  # resolving on the spot is the first response too
                changes |= {"responded_at": now, "responded_by": by}
            return "resolved", changes, False
        case "confirm":
            via = {"owner": "owner", "system": "auto"}.get(actor.standing, "staff")
            return "confirmed", {"confirmed_at": now, "confirmed_via": via}, False
        case "dispute":
            return "assigned", {"reopens": ticket.reopens + 1, "visit_due_at": None}, True
        case "visit":
            return _visit(ticket, actor, now, request, note)
        case "close":
            return "closed", {"closed_at": now}, False
        case "extend":
            return ticket.status, _extension(ticket, now, request), False
        case "note":
            return ticket.status, {}, False


def _visit(
    ticket: Ticket, actor: Actor, now: datetime, request: Request, note: str | None
) -> tuple[Status, dict[str, Any], bool]:
    if request.rating is None or not 1 <= request.rating <= 5:
        raise _required(ticket, "rating", "required: 1 (very dissatisfied) to 5 (very satisfied)")
    channel = request.channel or ("app" if actor.standing == "owner" else "phone")
    if actor.standing == "owner" and channel not in ("app", "web"):
        raise _required(ticket, "channel", "an owner rates in the app or on the web page")
    changes: dict[str, Any] = {
        "visited_at": now,
        "visited_by": actor.user_id,
        "visit_channel": channel,
        "visit_rating": request.rating,
        "visit_comment": note,
    }
    if request.rating <= LOW_RATING:
        return "assigned", changes | {"reopens": ticket.reopens + 1, "visit_due_at": None}, True
    if ticket.status == "resolved":  # a good visit is the owner's confirmation too
        changes |= {"confirmed_at": now, "confirmed_via": "owner" if actor.standing == "owner" else "staff"}
    return "closed", changes | {"closed_at": now}, False


def _extension(ticket: Ticket, now: datetime, request: Request) -> dict[str, Any]:
    if request.which is None:
        raise _required(ticket, "which", "required: respond or resolve")
    if request.which == "respond" and ticket.responded_at is not None:
        raise Conflict(
            f"ticket {ticket.id} was responded to already; only its resolution deadline can move",
            state=ticket.status,
            action="extend",
            **_where(ticket),
        )
    current = ticket.respond_due_at if request.which == "respond" else ticket.resolve_due_at
    if request.due_at is None or request.due_at <= now or (current is not None and request.due_at <= current):
        raise _required(ticket, "due_at", "must be later than now and than the deadline in force")
    return {f"{request.which}_due_at": request.due_at}
