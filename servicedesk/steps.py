"""Taking a step on a ticket: one path for the REST API, the steps phones push as ticket events, and the worker
(auto-confirmation). It gathers what the rules need (servicedesk/lifecycle.py), writes what they decide, and in
the same transaction adds the step to the ticket's timeline, the audit trail, and the inbox of those who should
hear of it: the household's owners of every public step, the person a ticket is assigned to, the supervisors of
a reopen."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from core.access import Caller
from core.audit.service import record
from core.errors import FieldError, Invalid, NotFound
from core.ids import new_id
from core.notifications.service import notify
from core.people import repository as people_sql
from core.places import repository as places_sql
from core.structs import record_as
from servicedesk import promises
from servicedesk.assignees import check_assignee
from servicedesk.lifecycle import Actor, Context, Request, Standing, Step, decide, permit
from servicedesk.models import Action, Ticket
from servicedesk.repository import tickets as sql
from sync.photos import repository as photos_sql

KIND_NAMES: dict[str, tuple[str, str]] = {
    "repair": ("报修", "repair request"),
    "complaint": ("投诉", "complaint"),
    "suggestion": ("建议", "suggestion"),
    "praise": ("表扬", "praise"),
    "enquiry": ("咨询", "enquiry"),
}
# what the household reads in its inbox, per step: {k} the kind, {r} / {s} the promised response / resolution
PROGRESS: dict[str, tuple[str, str]] = {
    "accept": (
        "您的{k}已受理：承诺 {r} 前响应，{s} 前处理完毕",
        "Your {k} was accepted: a response by {r}, resolved by {s}",
    ),
    "decline": ("您的{k}未予受理", "Your {k} was declined"),
    "assign": ("您的{k}已派单处理", "Your {k} has been assigned"),
    "respond": ("工作人员已响应您的{k}", "Staff have responded to your {k}"),
    "resolve": ("您的{k}已处理完毕，请确认", "Your {k} is resolved: please confirm"),
    "confirm": ("您的{k}已确认完成", "Your {k} is confirmed as done"),
    "dispute": ("您的{k}已重新处理", "Your {k} is being worked on again"),
    "visit": ("感谢您对{k}的回访评价", "Thank you for rating your {k}"),
    "close": ("您的{k}已办结", "Your {k} is closed"),
    "extend": ("您的{k}承诺时间已调整", "The promised time of your {k} has changed"),
    "note": ("您的{k}有新进展", "News on your {k}"),
}


def ticket_of(row: asyncpg.Record) -> Ticket:
    return record_as(row, Ticket)


async def standing_of(conn: asyncpg.Connection, caller: Caller, ticket: Ticket) -> Standing | None:
    """What the caller is to the ticket; None: nothing (it is not found for them)."""
    if caller.role == "owner":
        if ticket.reported_by == caller.user_id:
            return "owner"
        owned = {row["id"] for row in await places_sql.owned_units(conn, caller.org_id, caller.user_id)}
        return "owner" if ticket.unit_id in owned else None
    role = await people_sql.works_on(conn, caller.org_id, caller.user_id, ticket.property_id)
    if role in ("admin", "supervisor"):
        return "supervisor"
    return "staff" if role == "staff" else None


async def _context(conn: asyncpg.Connection, ticket: Ticket, action: Action, visit_days: int) -> Context:
    if action == "accept":
        respond, resolve = await promises.promise_for(
            conn, ticket.org_id, ticket.property_id, ticket.kind, ticket.category
        )
        return Context(respond_minutes=respond, resolve_minutes=resolve, visit_days=visit_days)
    if action == "resolve":
        counts = await photos_sql.photo_counts(conn, ticket.org_id, "tickets", [ticket.id], "after")
        return Context(after_photos=counts.get(ticket.id, 0), visit_days=visit_days)
    return Context(visit_days=visit_days)


async def _checked(conn: asyncpg.Connection, ticket: Ticket, action: Action, request: Request) -> Request:
    """The request with what the server fills in (the default assignee), refused where it names what it may not."""
    if action == "assign":
        assignee = request.assignee_id
        if assignee is None:  # the default, while that person still works on the property
            default = await sql.default_assignee(conn, ticket.org_id, ticket.property_id, ticket.category)
            if default and await people_sql.works_on(conn, ticket.org_id, default, ticket.property_id):
                assignee = default
        else:
            await check_assignee(conn, ticket.org_id, ticket.property_id, assignee)
        return msgspec.structs.replace(request, assignee_id=assignee)
    if action == "decline" and request.duplicate_of is not None:
        first = (await sql.tickets_by_ids(conn, ticket.org_id, [request.duplicate_of])).get(request.duplicate_of)
        if first is None or first["property_id"] != ticket.property_id or first["id"] == ticket.id:
            message = "not another ticket of this property"
            raise Invalid(f"duplicate_of: {message}", [FieldError(field="duplicate_of", message=message)])
    return request


async def take_step(
    conn: asyncpg.Connection,
    ticket: Ticket,
    action: Action,
    actor: Actor,
    request: Request,
    now: datetime,
    *,
    visit_days: int,
    event_id: str | None = None,
    new_event: bool = False,
) -> Step:
    """Check and write one step (the ticket's row locked by the caller). `event_id`: the step's event, a new one
    with that id when `new_event` (a REST client's id for its retries), else the event a phone pushed to ask for
    it; without it, a new event."""
    permit(ticket, action, actor)
    request = await _checked(conn, ticket, action, request)
    step = decide(ticket, action, actor, now, request, await _context(conn, ticket, action, visit_days))
    await sql.set_columns(conn, ticket.org_id, ticket.id, step.changes)
    body = (request.note or "").strip() or None
    event: dict[str, Any] = {
        "action": action,
        "body": body,
        "rating": request.rating,
        "public": step.public,
        "actor_id": actor.user_id,
        "status_before": step.status_before,
        "status_after": step.status_after,
        "outcome": "applied",
        "owner_unit_id": ticket.unit_id if step.public else None,
        "owner_user_id": ticket.reported_by if step.public else None,
        "data": _event_data(step),
    }
    if event_id is None or new_event:
        event_id = event_id or new_id()
        await sql.insert_event(
            conn,
            ticket.org_id,
            {"id": event_id, "ticket_id": ticket.id, "property_id": ticket.property_id, "created_at": now, **event},
        )
    else:  # at the moment the step was taken (a phone's clock ahead of the server's is not believed)
        await sql.take_pushed_event(conn, ticket.org_id, event_id, {**event, "created_at": now})
    await record(
        conn,
        org_id=ticket.org_id,
        actor_id=actor.user_id,
        action=f"ticket.{action}",
        entity="ticket",
        entity_id=ticket.id,
        before={
            "status": ticket.status,
            "respond_due_at": ticket.respond_due_at,
            "resolve_due_at": ticket.resolve_due_at,
        },
        after={**step.changes, "event_id": event_id, **({"note": body} if body else {})},
    )
    await _tell(conn, ticket, step, actor, request, event_id, body)
    return step


def _event_data(step: Step) -> dict[str, Any]:
    keep = ("respond_due_at", "resolve_due_at", "responsible_id", "duplicate_of", "confirmed_via", "visit_channel")
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in step.changes.items() if k in keep}


def _local(zone: ZoneInfo, moment: datetime | None) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


async def _tell(
    conn: asyncpg.Connection,
    ticket: Ticket,
    step: Step,
    actor: Actor,
    request: Request,
    event_id: str,
    body: str | None,
) -> None:
    common: dict[str, Any] = {
        "org_id": ticket.org_id,
        "property_id": ticket.property_id,
        "record_table": "tickets",
        "record_id": ticket.id,
        "data": {"action": step.action, "status": step.status_after, "event_id": event_id},
    }
    zh_kind, en_kind = KIND_NAMES[ticket.kind]
    if step.public and actor.standing != "owner":
        owners = await sql.owners_to_tell(conn, ticket.org_id, ticket.unit_id, ticket.reported_by)
        changes = step.changes
        zone = ZoneInfo(await places_sql.property_timezone(conn, ticket.org_id, ticket.property_id))
        r = _local(zone, changes.get("respond_due_at", ticket.respond_due_at))
        s = _local(zone, changes.get("resolve_due_at", ticket.resolve_due_at))
        zh, en = PROGRESS[step.action]
        await notify(
            conn,
            dedupe_key=f"ticket:{ticket.id}:event:{event_id}",
            kind="ticket.progress",
            recipients=[u for u in owners if u != actor.user_id],
            title_zh=zh.format(k=zh_kind, r=r, s=s),
            title_en=en.format(k=en_kind, r=r, s=s),
            body_zh=body or "",
            body_en=body or "",
            **common,
        )
    if step.action == "assign" and request.assignee_id and request.assignee_id != actor.user_id:
        await notify(
            conn,
            dedupe_key=f"ticket:{ticket.id}:assigned:{event_id}",
            kind="ticket.assigned",
            recipients=[request.assignee_id],
            title_zh=f"新{zh_kind}工单派给您：{ticket.description[:60]}",
            title_en=f"A {en_kind} is assigned to you: {ticket.description[:60]}",
            **common,
        )
    if step.reopened or (actor.standing == "owner" and step.action == "note"):
        supervisors = await people_sql.supervisors_of(conn, ticket.org_id, ticket.property_id)
        low = f"（回访 {request.rating}/5）" if step.action == "visit" else ""
        await notify(
            conn,
            dedupe_key=f"ticket:{ticket.id}:staff:{event_id}",
            kind="ticket.reopened" if step.reopened else "ticket.owner-note",
            recipients=sorted({*supervisors, *([ticket.responsible_id] if ticket.responsible_id else [])}),
            title_zh=(f"{zh_kind}被业主退回重办{low}：" if step.reopened else f"业主留言（{zh_kind}）：")
            + ticket.description[:60],
            title_en=("Reopened by the owner: " if step.reopened else "The owner wrote about: ")
            + ticket.description[:60],
            body_zh=body or "",
            body_en=body or "",
            **common,
        )


async def locked_ticket(conn: asyncpg.Connection, org_id: str, ticket_id: str) -> Ticket:
    row = (await sql.tickets_by_ids(conn, org_id, [ticket_id], lock=True)).get(ticket_id)
    if row is None:
        raise NotFound(f"ticket {ticket_id} not found", entity="ticket", id=ticket_id)
    return ticket_of(row)
