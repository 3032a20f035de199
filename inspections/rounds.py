"""Rounds: made by a supervisor (or a schedule, or a phone ad hoc), walked on site, completed.

planned → in_progress → completed; a round not started by the end of its window becomes missed (the workers'
job). A device may push a round it started and completed offline in one go, so the rules below judge the
state a round ends in, not each tap.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import asyncpg
import msgspec

from core.access import Caller, require_property, visible_property_ids
from core.audit.service import record_change
from core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from core.ids import new_id
from core.structs import Page, page_of, record_as
from inspections import setup, templates
from inspections.checks import expected_times
from inspections.evidence import flags
from inspections.models import Plan, Round
from inspections.repository import work as sql
from inspections.schemas_work import Reassign, ResultOut, RoundCreate, RoundDetail, VisitOut

# How long a round without a route (a checklist walk) may take; a route's round: its stops plus tolerance.
CHECKLIST_WINDOW = timedelta(hours=4)
MIN_ROUTE_WINDOW = timedelta(hours=1)


def round_of(row: asyncpg.Record) -> Round:
    return msgspec.convert(dict(row), Round)


def window_for(plan: Plan | None, start: datetime) -> tuple[datetime, datetime]:
    if plan is None:
        return start, start + CHECKLIST_WINDOW
    minutes = sum(stop.minutes for stop in plan.stops) + 2 * plan.tolerance_minutes
    return start, start + max(timedelta(minutes=minutes), MIN_ROUTE_WINDOW)


def missed_visit_id(round_id: str, checkpoint_id: str) -> str:
    return "mv" + hashlib.sha256(f"{round_id}:{checkpoint_id}".encode()).hexdigest()[:22]


async def create_round(
    conn: asyncpg.Connection, caller: Caller, property_id: str, data: RoundCreate, now: datetime
) -> RoundDetail:
    await require_property(conn, caller, property_id, "supervise")
    version_id = await templates.current_version(conn, caller.org_id, data.template_id)
    plan = None
    if data.route_id is not None:
        plan = await setup.route_of_property(conn, caller.org_id, property_id, data.route_id)
    await setup.check_assignee(conn, caller.org_id, property_id, data.assignee_id)
    start, end = window_for(plan, data.window_start or now)
    end = data.window_end or end
    if end <= start:
        raise Invalid(
            "the window must end after it starts", errors=[FieldError(field="window_end", message="too early")]
        )
    row = await sql.insert_round(
        conn,
        caller.org_id,
        {
            "id": new_id(),
            "property_id": property_id,
            "template_version_id": version_id,
            "route_id": data.route_id,
            "assignee_id": data.assignee_id,
            "status": "planned",
            "window_start": start,
            "window_end": end,
            "plan": None if plan is None else msgspec.to_builtins(plan),
            "created_by": caller.user_id,
        },
    )
    await record_change(conn, caller, "round.create", "round", row["id"], after=dict(row))
    return await get_round(conn, caller, row["id"])


async def _visible_round(conn: asyncpg.Connection, caller: Caller, round_id: str, *, lock: bool = False) -> Round:
    row = (await sql.rounds_by_ids(conn, caller.org_id, [round_id], lock=lock)).get(round_id)
    if row is not None:
        found = round_of(row)
        if found.assignee_id == caller.user_id:
            return found
        if caller.role in ("admin", "supervisor"):
            visible = await visible_property_ids(conn, caller)
            if visible is None or found.property_id in visible:
                return found
    raise NotFound(f"round {round_id} not found", entity="round", id=round_id)


async def get_round(conn: asyncpg.Connection, caller: Caller, round_id: str) -> RoundDetail:
    found = await _visible_round(conn, caller, round_id)
    visits = await sql.visits_of_rounds(conn, caller.org_id, [round_id])
    results = await sql.results_of_rounds(conn, caller.org_id, [round_id])
    shown = await flags.shown_with(conn, caller, round_ids=[round_id])
    return RoundDetail(
        round=found,
        visits=[record_as(v, VisitOut) for v in visits],
        results=[record_as(r, ResultOut) for r in results],
        flags=shown,
    )


async def reassign(conn: asyncpg.Connection, caller: Caller, round_id: str, data: Reassign) -> RoundDetail:
    """Give a round not yet started to someone else; it leaves the old assignee's phone at their next sync."""
    found = await _visible_round(conn, caller, round_id, lock=True)
    await require_property(conn, caller, found.property_id, "supervise")
    if found.status != "planned":
        raise Conflict(
            f"round {round_id} is {found.status}; only a planned round can be reassigned", state=found.status
        )
    await setup.check_assignee(conn, caller.org_id, found.property_id, data.assignee_id)
    await sql.set_columns(conn, "rounds", caller.org_id, round_id, {"assignee_id": data.assignee_id})
    await record_change(
        conn,
        caller,
        "round.reassign",
        "round",
        round_id,
        before={"assignee_id": found.assignee_id},
        after={"assignee_id": data.assignee_id},
    )
    return await get_round(conn, caller, round_id)


async def list_rounds(
    conn: asyncpg.Connection,
    caller: Caller,
    *,
    property_id: str | None,
    mine: bool,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Round]:
    """Staff see the rounds assigned to them; supervisors and admins their properties' (or only their own)."""
    if caller.role == "owner":
        raise Forbidden("owners do not walk rounds", required_role=["staff", "supervisor", "admin"])
    if property_id is not None:
        await require_property(conn, caller, property_id)
    properties = [property_id] if property_id is not None else await visible_property_ids(conn, caller)
    assignee = caller.user_id if mine or caller.role == "staff" else None
    rows = await sql.list_rounds(
        conn, caller.org_id, property_ids=properties, assignee_id=assignee, status=status, after=cursor, limit=limit + 1
    )
    return page_of([round_of(r) for r in rows], limit)


def unvisited_stops(found: Round, visited: set[str]) -> list[tuple[str, datetime | None]]:
    """(checkpoint_id, expected_at) of the route's stops nobody reached."""
    if found.plan is None:
        return []
    expected = expected_times(found.plan, found.started_at) if found.started_at else {}
    return [
        (cp, expected.get(cp)) for cp in dict.fromkeys(s.checkpoint_id for s in found.plan.stops) if cp not in visited
    ]


async def materialise_round(
    conn: asyncpg.Connection,
    org_id: str,
    property_id: str,
    *,
    template_id: str,
    route_id: str | None,
    assignee_id: str,
    starts_at: datetime,
    ends_at: datetime,
    occurrence_key: str,
    missed: bool,
) -> bool:
    """The round of one schedule occurrence for one assignee, made once (its occurrence_key is unique): planned,
    or missed when its window closed before it was made (the worker catching up after downtime). False when
    it existed already or the template was archived meanwhile."""
    version_id = await templates.current_version_id(conn, org_id, template_id)
    if version_id is None:
        return False
    route = await setup.route_plan(conn, org_id, route_id) if route_id else None
    return await sql.insert_scheduled_round(
        conn,
        org_id,
        {
            "id": new_id(),
            "property_id": property_id,
            "template_version_id": version_id,
            "route_id": route_id if route else None,
            "assignee_id": assignee_id,
            "status": "missed" if missed else "planned",
            "window_start": starts_at,
            "window_end": ends_at,
            "plan": msgspec.to_builtins(route[1]) if route else None,
            "occurrence_key": occurrence_key,
        },
    )
