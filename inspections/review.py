"""What a reviewer reads beside a rectification order (the console's review pages): its photos and whether their
bytes are ready, the names of its checkpoint and of the people in it, its round, its history (the order's audit
trail: opened, started, submitted with the note, sent back with the reason and new deadline, verified) and its
neighbours in the property's review queue. Reads only: the rules, and who may give a verdict, are
rectification.py's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from core.access import Caller
from core.audit.service import list_entries
from core.structs import Frozen
from inspections import rectification
from inspections.repository import review as sql
from inspections.repository import work as work_sql
from inspections.schemas_work import OrderOut

HISTORY = 200  # entries of an order's trail read (an order sent back a hundred times is not a real one)
# the moment each step's audit entry carries in what it changed (the app's clock, as the order has it)
STEP_TIME = {"open": "created_at", "start": "started_at", "submit": "submitted_at", "verify": "verified_at"}


class Photo(Frozen, frozen=True):
    id: str
    # the display size and thumbnail are made: an <img> of them shows
    ready: bool
    # pending, uploaded, ready or rejected (sync/photos)
    status: str


class Step(Frozen, frozen=True):
    action: str  # open, start, submit, reject, verify
    at: datetime
    by: str | None
    note: str | None = None  # a submission's resolution note
    reason: str | None = None  # a send-back's reason
    due_at: datetime | None = None  # a send-back's new deadline


class RoundSummary(Frozen, frozen=True):
    id: str
    status: str
    assignee_id: str
    window_start: datetime | None
    window_end: datetime | None
    route_name: str | None
    checklist_zh: str | None
    checklist_en: str | None


class Around(Frozen, frozen=True):
    """What a list of orders mentions, by id: people's names, checkpoints' names, photos' states."""

    names: dict[str, str]
    checkpoints: dict[str, str]
    photos: dict[str, Photo]


class OrderFile(Frozen, frozen=True):
    order: OrderOut
    around: Around
    round: RoundSummary | None
    history: list[Step]
    # the caller may verify or send it back now (it is submitted and they did not do the work)
    can_decide: bool
    # its neighbours in the property's review queue (an order not in it: the queue's first as `next_id`)
    previous_id: str | None
    next_id: str | None


async def around(
    conn: asyncpg.Connection, caller: Caller, orders: Sequence[OrderOut], more_people: Sequence[str] = ()
) -> Around:
    """The names and photo states the orders (already read through a use case that checked the caller) mention."""
    people = {*more_people}
    for order in orders:
        people |= {p for p in (order.responsible_id, order.reported_by, order.submitted_by, order.verified_by) if p}
    records = [("rectification_orders", o.id) for o in orders]
    records += [("check_results", o.check_id) for o in orders if o.check_id]
    photos = await work_sql.photos_of(conn, caller.org_id, records)
    checkpoints = [o.checkpoint_id for o in orders if o.checkpoint_id]
    return Around(
        names=await sql.user_names(conn, caller.org_id, sorted(people)),
        checkpoints=await sql.checkpoint_names(conn, caller.org_id, checkpoints) if checkpoints else {},
        photos={p["id"]: Photo(id=p["id"], ready=p["status"] == "ready", status=p["status"]) for p in photos},
    )


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


async def history(conn: asyncpg.Connection, caller: Caller, order: OrderOut) -> list[Step]:
    """The order's steps, oldest first, from its audit trail; each at the time the step itself records (a
    send-back's: its verdict's `reviewed_at`), else when it was written."""
    trail = await list_entries(
        conn, org_id=caller.org_id, entity="rectification_order", entity_id=order.id, cursor=None, limit=HISTORY
    )
    verdicts = await sql.verdict_times(conn, caller.org_id, order.id)
    steps = []
    for entry in reversed(trail.items):
        action = entry.action.removeprefix("rectification_order.")
        after = entry.after or {}
        at = _moment(after.get(STEP_TIME.get(action, ""))) or (
            verdicts.get(after.get("rejections", 0)) if action == "reject" else None
        )
        steps.append(
            Step(
                action=action,
                at=at or entry.at,
                by=entry.actor_id,
                note=after.get("resolution_note") if action == "submit" else None,
                reason=after.get("reject_reason") if action == "reject" else None,
                due_at=_moment(after.get("due_at")) if action == "reject" else None,
            )
        )
    return steps


async def order_file(conn: asyncpg.Connection, caller: Caller, order_id: str, now: datetime) -> OrderFile:
    """One order as a reviewer reads it; NotFound for an order the caller may not see (rectification's rule)."""
    order = await rectification.get_order(conn, caller, order_id, now)
    steps = await history(conn, caller, order)
    summary = None
    if order.round_id is not None and (row := await sql.round_summary(conn, caller.org_id, order.round_id)):
        summary = RoundSummary(**dict(row))
    people = [step.by for step in steps if step.by] + ([summary.assignee_id] if summary else [])
    in_queue = order.status == "submitted"
    neighbours = await sql.queue_neighbours(
        conn, caller.org_id, order.property_id, order.id, order.submitted_at if in_queue else None
    )
    return OrderFile(
        order=order,
        around=await around(conn, caller, [order], people),
        round=summary,
        history=steps,
        can_decide=in_queue and rectification.may_give_verdict(caller, order),
        previous_id=neighbours["previous"],
        next_id=neighbours["next"],
    )
