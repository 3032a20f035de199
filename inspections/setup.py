"""Setting up a property for inspections: checkpoints, routes and the default responsible person per category
(checklists are in templates.py). Each use case runs inside the caller's transaction.

The functions at the end serve other server code, such as rounds: they take an org id and check no caller.
route_plan, checkpoint and default_responsible answer None for what is not there; the rules for what new work
names (a route, a checkpoint, an assignee of its property) raise Refused, one message per refusal, whichever
entry point (the REST API, a sync push, a round schedule) asks."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from core.access import Caller, found_in_scope, require_property, require_role
from core.audit.service import record_change
from core.db import changes_of, unique_or_conflict
from core.errors import FieldError, Invalid, NotFound
from core.ids import new_id
from core.people import repository as people_sql
from core.places import repository as places_sql
from core.structs import Page, page_of
from core.vocabulary import CATEGORIES
from inspections.models import Plan, Stop
from inspections.repository import setup as sql
from inspections.schemas import (
    CheckpointCreate,
    CheckpointOut,
    CheckpointUpdate,
    DefaultResponsibleOut,
    DefaultResponsibleSet,
    RouteCreate,
    RouteOut,
)

# who works with checkpoints and routes: everyone but owners
READERS = ("admin", "supervisor", "staff")
RESPONSIBLE_ROLES = ("supervisor", "staff")
# who walks rounds
ASSIGNEE_ROLES = ("staff", "supervisor")


# Checkpoints


def check_point(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        raise Invalid(
            "a checkpoint's position needs geo_lat and geo_lon together",
            [
                FieldError(field=f, message="set both or neither / 两项须同时填写或同时留空")
                for f in ("geo_lat", "geo_lon")
            ],
        )


async def check_building(conn: asyncpg.Connection, org_id: str, property_id: str, building_id: str | None) -> None:
    if building_id is None:
        return
    building = await places_sql.get_building(conn, org_id, building_id)
    if building is None or building["property_id"] != property_id:
        raise Invalid(
            "no such building in this property",
            [FieldError(field="building_id", message="not a building of this property / 不是本项目的楼栋")],
        )


def checkpoint_for(caller: Caller, row: asyncpg.Record | CheckpointOut) -> CheckpointOut:
    """The checkpoint as the caller may see it: staff get the tag's digest, not its code."""
    out = row if isinstance(row, CheckpointOut) else msgspec.convert(dict(row), CheckpointOut)
    return msgspec.structs.replace(out, tag_code=None) if caller.role == "staff" else out


async def _visible(conn: asyncpg.Connection, caller: Caller, table: sql.OfProperty, id: str) -> asyncpg.Record:
    """A checkpoint or route the caller may see. One of a property outside the caller's scope answers as missing,
    not as the property."""
    require_role(caller, *READERS)
    row = await sql.get_one(conn, table, caller.org_id, id)
    entity = table.removesuffix("s")
    return await found_in_scope(conn, caller, row, NotFound(f"{entity} {id} not found", entity=entity, id=id))


async def _checkpoint(conn: asyncpg.Connection, caller: Caller, checkpoint_id: str) -> CheckpointOut:
    return msgspec.convert(dict(await _visible(conn, caller, "checkpoints", checkpoint_id)), CheckpointOut)


async def create_checkpoint(
    conn: asyncpg.Connection, caller: Caller, property_id: str, data: CheckpointCreate
) -> CheckpointOut:
    await require_property(conn, caller, property_id, "admin")
    await check_building(conn, caller.org_id, property_id, data.building_id)
    check_point(data.geo_lat, data.geo_lon)
    row = await unique_or_conflict(
        sql.insert_checkpoint(
            conn,
            caller.org_id,
            new_id(),
            property_id,
            data.name,
            data.tag_code,
            data.building_id,
            data.location,
            data.geo_lat,
            data.geo_lon,
        ),
        "another checkpoint has this tag code / 该标签编码已被其他巡更点使用",
        "tag_code",
    )
    created = msgspec.convert(dict(row), CheckpointOut)
    await record_change(conn, caller, "create", "checkpoint", created.id, after=created)
    return created


async def get_checkpoint(conn: asyncpg.Connection, caller: Caller, checkpoint_id: str) -> CheckpointOut:
    return checkpoint_for(caller, await _checkpoint(conn, caller, checkpoint_id))


async def list_checkpoints(
    conn: asyncpg.Connection, caller: Caller, property_id: str, active: bool | None, cursor: str | None, limit: int
) -> Page[CheckpointOut]:
    await require_property(conn, caller, property_id)
    require_role(caller, *READERS)
    rows = await sql.list_of_property(conn, "checkpoints", caller.org_id, property_id, active, cursor, limit + 1)
    return page_of([checkpoint_for(caller, r) for r in rows], limit)


async def update_checkpoint(
    conn: asyncpg.Connection, caller: Caller, checkpoint_id: str, data: CheckpointUpdate
) -> CheckpointOut:
    before = await _checkpoint(conn, caller, checkpoint_id)
    await require_property(conn, caller, before.property_id, "admin")
    changes = changes_of(data)
    if changes.get("building_id") is not None:
        await check_building(conn, caller.org_id, before.property_id, data.building_id)  # type: ignore[arg-type]
    merged = msgspec.structs.replace(before, **changes)
    check_point(merged.geo_lat, merged.geo_lon)
    if merged == before:
        return before
    row = await unique_or_conflict(
        sql.update_one(conn, "checkpoints", caller.org_id, checkpoint_id, changes),
        "another checkpoint has this tag code / 该标签编码已被其他巡更点使用",
        "tag_code",
    )
    after = msgspec.convert(dict(row), CheckpointOut)
    await record_change(conn, caller, "update", "checkpoint", checkpoint_id, before=before, after=after)
    return after


# Routes


def route_of(row: asyncpg.Record) -> RouteOut:
    return msgspec.convert({**dict(row), "expected_minutes": sum(stop["minutes"] for stop in row["stops"])}, RouteOut)


async def check_route(conn: asyncpg.Connection, org_id: str, property_id: str, data: RouteCreate) -> None:
    errors: list[FieldError] = []
    if (data.window_start is None) != (data.window_end is None):
        errors += [
            FieldError(field=f, message="set both or neither / 两项须同时填写或同时留空")
            for f in ("window_start", "window_end")
        ]
    elif data.window_start is not None and data.window_start == data.window_end:
        errors.append(
            FieldError(field="window_end", message="must differ from window_start / 结束时间须与开始时间不同")
        )
    usable = await sql.active_checkpoint_ids(conn, org_id, property_id, [s.checkpoint_id for s in data.stops])
    seen: set[str] = set()
    for i, stop in enumerate(data.stops):
        field = f"stops[{i}].checkpoint_id"
        if stop.checkpoint_id in seen:
            errors.append(
                FieldError(field=field, message="this checkpoint is an earlier stop of the route / 该巡更点已在路线中")
            )
        elif stop.checkpoint_id not in usable:
            errors.append(
                FieldError(field=field, message="not an active checkpoint of this property / 不是本项目启用中的巡更点")
            )
        seen.add(stop.checkpoint_id)
    if errors:
        raise Invalid("the route is not valid", errors)


async def create_route(conn: asyncpg.Connection, caller: Caller, property_id: str, data: RouteCreate) -> RouteOut:
    await require_property(conn, caller, property_id, "admin")
    await check_route(conn, caller.org_id, property_id, data)
    row = await sql.insert_route(
        conn,
        caller.org_id,
        new_id(),
        property_id,
        data.name,
        data.stops,
        data.tolerance_minutes,
        data.window_start,
        data.window_end,
    )
    route = route_of(row)
    await record_change(conn, caller, "create", "route", route.id, after=route)
    return route


async def get_route(conn: asyncpg.Connection, caller: Caller, route_id: str) -> RouteOut:
    return route_of(await _visible(conn, caller, "routes", route_id))


async def list_routes(
    conn: asyncpg.Connection, caller: Caller, property_id: str, active: bool | None, cursor: str | None, limit: int
) -> Page[RouteOut]:
    await require_property(conn, caller, property_id)
    require_role(caller, *READERS)
    rows = await sql.list_of_property(conn, "routes", caller.org_id, property_id, active, cursor, limit + 1)
    return page_of([route_of(r) for r in rows], limit)


async def replace_route(conn: asyncpg.Connection, caller: Caller, route_id: str, data: RouteCreate) -> RouteOut:
    """The route's plan replaced whole; rounds already made keep the copy they were made with."""
    before = await get_route(conn, caller, route_id)
    await require_property(conn, caller, before.property_id, "admin")
    await check_route(conn, caller.org_id, before.property_id, data)
    changes: dict[str, Any] = {f: getattr(data, f) for f in data.__struct_fields__}
    if all(getattr(before, f) == value for f, value in changes.items()):
        return before
    after = route_of(await sql.update_one(conn, "routes", caller.org_id, route_id, changes))
    await record_change(conn, caller, "update", "route", route_id, before=before, after=after)
    return after


async def deactivate_route(conn: asyncpg.Connection, caller: Caller, route_id: str) -> None:
    before = await get_route(conn, caller, route_id)
    await require_property(conn, caller, before.property_id, "admin")
    if not before.active:
        return
    after = route_of(await sql.update_one(conn, "routes", caller.org_id, route_id, {"active": False}))
    await record_change(conn, caller, "deactivate", "route", route_id, before=before, after=after)


# Default responsible person per property and category


def check_category(category: str) -> None:
    if category not in CATEGORIES:
        raise Invalid(
            f"unknown category {category!r}",
            [FieldError(field="category", message=f"one of: {', '.join(CATEGORIES)}")],
        )


def default_of(row: asyncpg.Record) -> DefaultResponsibleOut:
    return msgspec.convert(dict(row), DefaultResponsibleOut)


async def set_default_responsible(
    conn: asyncpg.Connection, caller: Caller, property_id: str, category: str, data: DefaultResponsibleSet
) -> DefaultResponsibleOut:
    await require_property(conn, caller, property_id, "admin")
    check_category(category)
    person = await sql.assigned_person(conn, caller.org_id, property_id, data.user_id)
    if person is None or person["role"] not in RESPONSIBLE_ROLES or not person["active"]:
        raise Invalid(
            "the responsible person must be an active supervisor or staff member of this property",
            [FieldError(field="user_id", message="not a supervisor or staff member assigned to this property")],
        )
    row = await sql.get_default(conn, caller.org_id, property_id, category)
    before = None if row is None else default_of(row)
    if before is not None and before.user_id == data.user_id:
        return before
    await sql.upsert_default(conn, caller.org_id, property_id, category, data.user_id)
    row = await sql.get_default(conn, caller.org_id, property_id, category)
    assert row is not None
    after = default_of(row)
    action = "create" if before is None else "update"
    await record_change(
        conn, caller, action, "rectification_default", f"{property_id}:{category}", before=before, after=after
    )
    return after


async def list_default_responsibles(
    conn: asyncpg.Connection, caller: Caller, property_id: str
) -> list[DefaultResponsibleOut]:
    await require_property(conn, caller, property_id, "supervise")
    return [default_of(r) for r in await sql.list_defaults(conn, caller.org_id, property_id)]


async def remove_default_responsible(conn: asyncpg.Connection, caller: Caller, property_id: str, category: str) -> None:
    await require_property(conn, caller, property_id, "admin")
    check_category(category)
    row = await sql.get_default(conn, caller.org_id, property_id, category)
    if row is None:
        raise NotFound(
            f"property {property_id} has no default responsible person for {category}",
            entity="rectification_default",
            id=f"{property_id}:{category}",
        )
    await sql.delete_default(conn, caller.org_id, property_id, category)
    await record_change(
        conn, caller, "delete", "rectification_default", f"{property_id}:{category}", before=default_of(row)
    )


# For other server code (rounds, rectification): no caller, no access checks.


async def route_plan(conn: asyncpg.Connection, org_id: str, route_id: str) -> tuple[str, Plan] | None:
    """(property id, plan) of an active route, the plan as a round should copy it; None otherwise."""
    row = await sql.get_one(conn, "routes", org_id, route_id)
    if row is None or not row["active"]:
        return None
    stops = msgspec.convert(row["stops"], list[Stop])
    return row["property_id"], Plan(tolerance_minutes=row["tolerance_minutes"], stops=stops)


async def checkpoint(conn: asyncpg.Connection, org_id: str, checkpoint_id: str) -> dict[str, Any] | None:
    """id, property_id, name, tag_code, location and active of a checkpoint, retired ones included."""
    row = await sql.get_one(conn, "checkpoints", org_id, checkpoint_id)
    if row is None:
        return None
    return {k: row[k] for k in ("id", "property_id", "name", "tag_code", "location", "active")}


async def default_responsible(conn: asyncpg.Connection, org_id: str, property_id: str, category: str) -> str | None:
    """Who answers for the category's findings on the property, while still active and assigned there."""
    return await sql.default_responsible(conn, org_id, property_id, category)


# Rules for what new work names. One message per refusal: the REST API raises it as it is, a push names the
# record it is about (push_settlement), a round schedule the payload's field (schedule_payload).


class Refused(Invalid):
    """One value refused: `field` as a REST body names it, `message` why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", [FieldError(field=field, message=message)])
        self.field, self.message = field, message


async def route_of_property(conn: asyncpg.Connection, org_id: str, property_id: str, route_id: str) -> Plan:
    """The plan of an active route of the property, as a round copies it."""
    route = await route_plan(conn, org_id, route_id)
    if route is None or route[0] != property_id:
        raise Refused("route_id", "not an active route of this property / 不是本项目启用中的巡更路线")
    return route[1]


async def checkpoint_of_property(
    conn: asyncpg.Connection, org_id: str, property_id: str, checkpoint_id: str
) -> dict[str, Any]:
    """The checkpoint (as `checkpoint` gives it, retired ones included) if it is one of the property's."""
    found = await checkpoint(conn, org_id, checkpoint_id)
    if found is None or found["property_id"] != property_id:
        raise Refused("checkpoint_id", "not a checkpoint of this property")
    return found


async def check_assignee(conn: asyncpg.Connection, org_id: str, property_id: str, user_id: str) -> None:
    """Rounds go to the property's staff and supervisors."""
    if await people_sql.works_on(conn, org_id, user_id, property_id) not in ASSIGNEE_ROLES:
        raise Refused("assignee_id", "not staff or a supervisor of this property / 不是本项目的员工或主管")
