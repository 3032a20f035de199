"""Rectification orders (整改单): opening them (from a failed item, a problem a phone reported, or by hand),
their lifecycle, the lists people work from and the supervisor's review queue.

The lifecycle, as rules (`decide`, pure): open → in progress → submitted → verified, or back to in progress
when a supervisor sends it back. Only a supervisor of the order's property verifies or sends back, and never
the person who did the work (the person responsible, or who submitted it). A submission needs at least one
after-photo.

The same opening and transition code serves the REST API (desktop console) and sync pushes (phones offline);
every transition is one audit entry `rectification_order.<action>` with the status before and after.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any, Literal

import asyncpg
import msgspec

from core.access import Caller, require_property, visible_property_ids
from core.audit.service import record_change
from core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from core.ids import new_id
from core.people import repository as people_sql
from core.structs import Page, cursor_after
from inspections import setup
from inspections.evidence import flags
from inspections.models import Order, OrderStatus
from inspections.repository import work as sql
from inspections.schemas_work import OrderCreate, OrderOut, ReviewItem
from sync.photos import repository as photos_sql

Action = Literal["start", "submit", "verify", "reject"]

# Hours to put a finding right when its checklist item names none (a policy by severity).
DEADLINE_HOURS = {"critical": 4, "high": 24, "medium": 72, "low": 168}

STEPS: dict[tuple[OrderStatus, OrderStatus], Action] = {
    ("open", "in_progress"): "start",
    ("in_progress", "submitted"): "submit",
    ("submitted", "verified"): "verify",
    ("submitted", "in_progress"): "reject",
}
# the status each action starts from
FROM: dict[Action, OrderStatus] = {action: before for (before, _), action in STEPS.items()}
VERB = {"start": "start", "submit": "submit", "verify": "verify", "reject": "send back"}


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    # a supervisor assigned to the order's property
    supervises: bool
    # staff, a supervisor or an admin working on the order's property (may pick up an unassigned order)
    on_site: bool


def deadline(created_at: datetime, severity: str, hours: int | None = None) -> datetime:
    return created_at + timedelta(hours=hours or DEADLINE_HOURS[severity])


def is_overdue(status: str, due_at: datetime | None, now: datetime) -> bool:
    """An order not verified whose deadline has passed."""
    return status != "verified" and due_at is not None and due_at < now


def side_of(photo: asyncpg.Record, order_id: str, check_id: str | None) -> Literal["before", "after"] | None:
    """Which side of an order a photo shows: its own after-photos show the fix; its other photos and its failed
    check's photos show what was wrong (None: not the order's)."""
    mine = photo["record_table"] == "rectification_orders" and photo["record_id"] == order_id
    of_check = check_id is not None and photo["record_table"] == "check_results" and photo["record_id"] == check_id
    if mine and photo["purpose"] == "after":
        return "after"
    return "before" if mine or of_check else None


def _photo_records(orders: list[Order]) -> list[tuple[str, str]]:
    """The records whose photos are the orders': each order and its failed check."""
    return [("rectification_orders", o.id) for o in orders] + [
        ("check_results", o.check_id) for o in orders if o.check_id
    ]


async def before_photos(conn: asyncpg.Connection, org_id: str, order_id: str) -> list[asyncpg.Record]:
    """An order's before-photos (the caller was found to see it, or is the worker): id, status, record, purpose."""
    row = (await sql.orders_by_ids(conn, org_id, [order_id])).get(order_id)
    if row is None:
        return []
    order = order_of(row)
    photos = await sql.photos_of(conn, org_id, _photo_records([order]))
    return [p for p in photos if side_of(p, order.id, order.check_id) == "before"]


def action_between(order_id: str, before: OrderStatus, after: OrderStatus) -> Action:
    """The one step from `before` to `after` (a device pushes the status it ended at)."""
    action = STEPS.get((before, after))
    if action is None:
        raise Conflict(
            f"rectification_orders.{order_id}: an order cannot go from {before} to {after}",
            table="rectification_orders",
            id=order_id,
            state=before,
            wanted=after,
            allowed=[to for (start, to) in STEPS if start == before],
        )
    return action


def decide(
    order: Order,
    action: Action,
    actor: Actor,
    now: datetime,
    *,
    after_photos: int = 0,
    reason: str | None = None,
    due_at: datetime | None = None,
    seen: datetime | None = None,
) -> dict[str, Any]:
    """The columns `action` by `actor` changes on `order`; raises when the rules refuse it. `seen`: for a
    verdict, the submission (its `submitted_at`) the reviewer looked at; a verdict on anything else is stale."""
    where: dict[str, Any] = {"table": "rectification_orders", "id": order.id}
    # who first (a staff member verifying is refused as such, whatever state the order is in), then the state
    mine = order.responsible_id == actor.user_id
    claim = order.responsible_id is None and actor.on_site
    if action in ("start", "submit") and not (mine or claim or actor.supervises):
        raise Forbidden(f"order {order.id} is not yours to {VERB[action]}", **where)
    if action in ("verify", "reject"):
        if not actor.supervises:
            raise Forbidden(f"only a supervisor of this property can {VERB[action]} an order", **where)
        if actor.user_id in (order.responsible_id, order.submitted_by):
            raise Forbidden(f"you did the work on order {order.id}; another supervisor must {VERB[action]} it", **where)
        if seen is not None and (order.status != FROM[action] or order.submitted_at != seen):
            raise Conflict(
                f"order {order.id} changed after you opened it: someone gave it a verdict or it was submitted again;"
                " reload it and decide again / 这张整改单在您查看后已被他人处理或重新提交，请重新载入后再决定",
                code="stale_order",
                state=order.status,
                seen=seen,
                submitted_at=order.submitted_at,
                **where,
            )
    if order.status != FROM[action]:
        raise Conflict(
            f"cannot {VERB[action]} order {order.id}: it is {order.status}, it must be {FROM[action]}",
            state=order.status,
            action=action,
            **where,
        )
    if action in ("start", "submit"):
        changes: dict[str, Any] = {"status": "in_progress" if action == "start" else "submitted"}
        if claim:
            changes["responsible_id"] = actor.user_id
        if action == "start":
            changes["started_at"] = order.started_at or now
        else:
            if after_photos < 1:
                raise Invalid(
                    f"order {order.id} needs at least one after-photo before it is submitted",
                    errors=[FieldError(field="photos", message="attach an 'after' photo of the fix")],
                    **where,
                )
            changes |= {"submitted_at": now, "submitted_by": actor.user_id}
        return changes
    if action == "verify":
        return {"status": "verified", "verified_at": now, "verified_by": actor.user_id}
    if not (reason or "").strip():
        raise Invalid(
            "say why the order is sent back",
            errors=[FieldError(field="reason", message="required when sending an order back")],
            **where,
        )
    changes = {"status": "in_progress", "reject_reason": reason, "rejections": order.rejections + 1}
    if due_at is not None:
        if due_at <= now:
            raise Invalid(
                "a new deadline must be in the future",
                errors=[FieldError(field="due_at", message="must be later than now")],
                **where,
            )
        changes["due_at"] = due_at
    return changes


# --- opening and moving orders (the REST API and sync pushes) ----------------------------------------


def order_of(row: asyncpg.Record | dict[str, Any]) -> Order:
    return msgspec.convert(dict(row), Order)


def check_order_id(org_id: str, check_id: str) -> str:
    """The id of the order a failed check opens: the same every time, so a retried push opens one order."""
    return "ro" + hashlib.sha256(f"{org_id}:{check_id}".encode()).hexdigest()[:22]


async def actor_for(conn: asyncpg.Connection, caller: Caller, property_id: str) -> Actor:
    role = await people_sql.works_on(conn, caller.org_id, caller.user_id, property_id)
    return Actor(user_id=caller.user_id, supervises=role == "supervisor", on_site=role is not None)


async def _filled_in(
    conn: asyncpg.Connection, org_id: str, values: dict[str, Any], rectify_hours: int | None
) -> dict[str, Any]:
    """What the server fills in on an order it opens: the property's default person for the category when
    nobody is named, the deadline (the item's `rectify_hours`, or the policy by severity) when none is given,
    and that deadline as the first one."""
    responsible = values.get("responsible_id") or await setup.default_responsible(
        conn, org_id, values["property_id"], values["category"]
    )
    due_at = values.get("due_at") or deadline(values["created_at"], values["severity"], rectify_hours)
    return {"responsible_id": responsible, "due_at": due_at, "original_due_at": due_at}


async def open_order(
    conn: asyncpg.Connection, caller: Caller, values: dict[str, Any], *, rectify_hours: int | None = None
) -> bool:
    """Insert an order (`values`: its columns, created_at included) with what the server fills in; False when
    it existed (a retried push)."""
    values = values | await _filled_in(conn, caller.org_id, values, rectify_hours)
    inserted = await sql.insert_order(conn, caller.org_id, values)
    if inserted:
        await record_change(conn, caller, "rectification_order.open", "rectification_order", values["id"], after=values)
    return inserted


async def open_reported(conn: asyncpg.Connection, caller: Caller, order: Order) -> None:
    """A problem a phone reported: the push wrote the order, the server fills in the rest as open_order does."""
    values = msgspec.structs.asdict(order)
    changes = await _filled_in(conn, caller.org_id, values, None)
    await sql.set_columns(conn, "rectification_orders", caller.org_id, order.id, changes)
    await record_change(
        conn, caller, "rectification_order.open", "rectification_order", order.id, after=values | changes
    )


async def apply_transition(
    conn: asyncpg.Connection,
    caller: Caller,
    order: Order,
    action: Action,
    now: datetime,
    *,
    reason: str | None = None,
    due_at: datetime | None = None,
    note: str | None = None,
    seen: datetime | None = None,
    actor: Actor | None = None,
) -> dict[str, Any]:
    """Check and write one step of an order's lifecycle; returns the columns it changed. `actor`: the caller
    on the order's property, when the caller has worked it out already; `note`: the resolution note a
    submission brings; `seen`: see `decide`."""
    actor = actor or await actor_for(conn, caller, order.property_id)
    after_photos = 0
    if action == "submit":
        counts = await photos_sql.photo_counts(conn, caller.org_id, "rectification_orders", [order.id], "after")
        after_photos = counts.get(order.id, 0)
    changes = decide(order, action, actor, now, after_photos=after_photos, reason=reason, due_at=due_at, seen=seen)
    if note is not None:
        changes["resolution_note"] = note
    await sql.set_columns(conn, "rectification_orders", caller.org_id, order.id, changes)
    # a submission's entry names the note it came with (a phone's is on the order already)
    noted = changes | {"resolution_note": order.resolution_note} if action == "submit" and note is None else changes
    if action in ("verify", "reject"):
        # the review delay is a figure of each verdict, send-backs too (the order keeps only its latest)
        await sql.insert_review(
            conn,
            caller.org_id,
            msgspec.structs.asdict(order),
            "verified" if action == "verify" else "rejected",
            now,
            caller.user_id,
        )
    await record_change(
        conn,
        caller,
        f"rectification_order.{action}",
        "rectification_order",
        order.id,
        before={"status": order.status, "due_at": order.due_at},
        after=noted,
    )
    return changes


# --- the REST use cases -------------------------------------------------------------------------------


async def _visible_order(conn: asyncpg.Connection, caller: Caller, order_id: str, *, lock: bool = False) -> Order:
    """The order if the caller may see it: supervisors and admins of its property, its responsible person and
    its reporter. Anyone else gets NotFound (its existence is not revealed)."""
    row = (await sql.orders_by_ids(conn, caller.org_id, [order_id], lock=lock)).get(order_id)
    if row is not None:
        order = order_of(row)
        if caller.user_id in (order.responsible_id, order.reported_by):
            return order
        if caller.role in ("admin", "supervisor"):
            visible = await visible_property_ids(conn, caller)
            if visible is None or order.property_id in visible:
                return order
    raise NotFound(f"order {order_id} not found", entity="rectification_order", id=order_id)


async def out(conn: asyncpg.Connection, caller: Caller, orders: list[Order], now: datetime) -> list[OrderOut]:
    """Orders with their before and after photo ids (a failed check's photos count as before-photos)."""
    photos = await sql.photos_of(conn, caller.org_id, _photo_records(orders))
    shown = await flags.shown_with(conn, caller, order_ids=[o.id for o in orders])
    result = []
    for order in orders:
        sides = [(side_of(photo, order.id, order.check_id), photo["id"]) for photo in photos]
        before = [photo_id for side, photo_id in sides if side == "before"]
        after = [photo_id for side, photo_id in sides if side == "after"]
        overdue = is_overdue(order.status, order.due_at, now)
        result.append(
            OrderOut(
                **msgspec.structs.asdict(order),
                overdue=overdue,
                before_photo_ids=before,
                after_photo_ids=after,
                flags=[f for f in shown if f.order_id == order.id],
            )
        )
    return result


async def get_order(conn: asyncpg.Connection, caller: Caller, order_id: str, now: datetime) -> OrderOut:
    return (await out(conn, caller, [await _visible_order(conn, caller, order_id)], now))[0]


async def transition(
    conn: asyncpg.Connection,
    caller: Caller,
    order_id: str,
    action: Action,
    now: datetime,
    *,
    reason: str | None = None,
    due_at: datetime | None = None,
    note: str | None = None,
    seen: datetime | None = None,
) -> OrderOut:
    """One step by a person (the REST API, the console). `seen`: for a verdict, the `submitted_at` the person
    saw; checked under the order's row lock, so of two verdicts on one submission the second is refused."""
    order = await _visible_order(conn, caller, order_id, lock=True)
    await apply_transition(conn, caller, order, action, now, reason=reason, due_at=due_at, note=note, seen=seen)
    return await get_order(conn, caller, order_id, now)


async def create_order(
    conn: asyncpg.Connection,
    caller: Caller,
    property_id: str,
    data: OrderCreate,
    now: datetime,
    *,
    source: str = "manual",
    order_id: str | None = None,
) -> OrderOut:
    """An order opened by hand by a supervisor (or an admin) of the property: `source` manual, or survey for a
    survey's improvement action (whose id, given, makes a retry open it once)."""
    await require_property(conn, caller, property_id, "supervise")
    if (
        data.responsible_id is not None
        and await people_sql.works_on(conn, caller.org_id, data.responsible_id, property_id) is None
    ):
        raise Invalid(
            "the responsible person must work on this property",
            errors=[FieldError(field="responsible_id", message="not assigned to this property")],
        )
    if data.checkpoint_id is not None:
        await setup.checkpoint_of_property(conn, caller.org_id, property_id, data.checkpoint_id)
    if data.due_at is not None and data.due_at <= now:
        raise Invalid("a deadline must be in the future", errors=[FieldError(field="due_at", message="in the past")])
    order_id = order_id or new_id()
    await open_order(
        conn,
        caller,
        {
            "id": order_id,
            "property_id": property_id,
            "source": source,
            "checkpoint_id": data.checkpoint_id,
            "location": data.location,
            "category": data.category,
            "description": data.description,
            "severity": data.severity,
            "responsible_id": data.responsible_id,
            "reported_by": caller.user_id,
            "status": "open",
            "due_at": data.due_at,
            "created_at": now,
        },
    )
    return await get_order(conn, caller, order_id, now)


async def list_orders(
    conn: asyncpg.Connection,
    caller: Caller,
    now: datetime,
    *,
    property_id: str | None,
    mine: bool,
    status: str | None,
    overdue: bool,
    cursor: str | None,
    limit: int,
) -> Page[OrderOut]:
    """Staff see the orders they must fix or reported; supervisors and admins their properties' (or, with
    `mine`, only their own)."""
    if caller.role == "owner":
        raise Forbidden("owners do not have rectification orders", required_role=["staff", "supervisor", "admin"])
    if property_id is not None:
        await require_property(conn, caller, property_id)
    properties = [property_id] if property_id is not None else await visible_property_ids(conn, caller)
    person = caller.user_id if mine or caller.role == "staff" else None
    rows = await sql.list_orders(
        conn,
        caller.org_id,
        property_ids=properties,
        person_id=person,
        status=status,
        overdue_at=now if overdue else None,
        after=cursor,
        limit=limit + 1,
    )
    items = await out(conn, caller, [order_of(r) for r in rows[:limit]], now)
    return Page(items=items, next_cursor=cursor_after(items[-1].id) if len(rows) > limit else None)


def may_give_verdict(caller: Caller, order: Order) -> bool:
    """Whether the caller (a supervisor in the order's property's scope) may verify or send back the order:
    not when they did the work. What the review queue's `can_verify` says; `decide` is the rule itself."""
    return caller.role == "supervisor" and caller.user_id not in (order.responsible_id, order.submitted_by)


async def review_queue(
    conn: asyncpg.Connection, caller: Caller, property_id: str, now: datetime, cursor: str | None, limit: int
) -> Page[ReviewItem]:
    """What waits for a supervisor's verdict, the longest waiting first, with before and after photos."""
    await require_property(conn, caller, property_id, "supervise")
    rows = await sql.review_queue(conn, caller.org_id, property_id, cursor, limit + 1)
    orders = await out(conn, caller, [order_of(r) for r in rows[:limit]], now)
    items = [
        ReviewItem(
            order=order,
            waiting_hours=round((now - order.submitted_at).total_seconds() / 3600, 1) if order.submitted_at else 0.0,
            can_verify=may_give_verdict(caller, order),
        )
        for order in orders
    ]
    return Page(items=items, next_cursor=cursor_after(orders[-1].id) if len(rows) > limit else None)
