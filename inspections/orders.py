"""The rectification lifecycle, as rules: open → in progress → submitted → verified, or back to in progress
when a supervisor sends it back. Pure: it decides what changes; the service reads and writes.

Only a supervisor of the order's property verifies or sends back, and never the person who did the work
(the person responsible, or who submitted it). A submission needs at least one after-photo.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec

from core.errors import Conflict, FieldError, Forbidden, Invalid
from inspections.models import Order, OrderStatus

Action = Literal["start", "submit", "verify", "reject"]

# Hours to put a finding right when its checklist item names none (a policy by severity).
DEADLINE_HOURS = {"critical": 4, "high": 24, "medium": 72, "low": 168}

STEPS: dict[tuple[str, str], Action] = {
    ("open", "in_progress"): "start",
    ("in_progress", "submitted"): "submit",
    ("submitted", "verified"): "verify",
    ("submitted", "in_progress"): "reject",
}
FROM: dict[Action, OrderStatus] = {
    "start": "open",
    "submit": "in_progress",
    "verify": "submitted",
    "reject": "submitted",
}
VERB = {"start": "start", "submit": "submit", "verify": "verify", "reject": "send back"}


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    # a supervisor assigned to the order's property
    supervises: bool
    # staff, a supervisor or an admin working on the order's property (may pick up an unassigned order)
    on_site: bool


def deadline(created_at: datetime, severity: str, hours: int | None = None) -> datetime:
    return created_at + timedelta(hours=hours or DEADLINE_HOURS[severity])


def action_between(order_id: str, before: str, after: str) -> Action:
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
) -> dict[str, Any]:
    """The columns `action` by `actor` changes on `order`; raises when the rules refuse it."""
    where = dict(table="rectification_orders", id=order.id)
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
