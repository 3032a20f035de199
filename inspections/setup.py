"""Setting up inspections: checklist templates (an edit makes a new, immutable version), checkpoints, routes
and the default responsible person per category. Each use case runs inside the caller's transaction.

The functions at the end (template_version … default_responsible) serve other server code, such as rounds:
they take an org id, check no caller and answer None for what is not there."""

from __future__ import annotations

import math
from typing import Any

import asyncpg
import msgspec

from core.access import Caller, require_property, require_role
from core.audit.service import record_change
from core.db import changes_of, unique_or_conflict
from core.errors import Conflict, FieldError, Invalid, NotFound
from core.ids import new_id
from core.places import repository as places_sql
from core.structs import Page, page_of
from inspections.models import CATEGORIES, ChoiceItem, Item, NumberItem, Plan, Stop, Template, TemplateVersion
from inspections.repository import setup as sql
from inspections.schemas import (
    CheckpointCreate,
    CheckpointOut,
    CheckpointUpdate,
    DefaultResponsibleOut,
    DefaultResponsibleSet,
    RouteCreate,
    RouteOut,
    TemplateCreate,
)

# who works with templates, checkpoints and routes: everyone but owners
READERS = ("admin", "supervisor", "staff")
RESPONSIBLE_ROLES = ("supervisor", "staff")


# Templates


def check_items(items: list[Item]) -> None:
    """What msgspec cannot say about a checklist: keys unique, number bounds in order, choices that can pass."""
    errors: list[FieldError] = []
    keys: set[str] = set()
    for i, item in enumerate(items):
        if item.key in keys:
            errors.append(FieldError(field=f"items[{i}].key", message=f"{item.key!r} is the key of an earlier item"))
        keys.add(item.key)
        if isinstance(item, NumberItem):
            for bound in ("min", "max"):
                value = getattr(item, bound)
                if value is not None and not math.isfinite(value):
                    errors.append(FieldError(field=f"items[{i}].{bound}", message="must be a finite number"))
            if item.min is not None and item.max is not None and item.min > item.max:
                errors.append(FieldError(field=f"items[{i}].max", message="must not be below min"))
        if isinstance(item, ChoiceItem):
            values: set[str] = set()
            for j, option in enumerate(item.options):
                if option.value in values:
                    errors.append(
                        FieldError(field=f"items[{i}].options[{j}].value", message=f"{option.value!r} is used twice")
                    )
                values.add(option.value)
            if all(option.fails for option in item.options):
                errors.append(FieldError(field=f"items[{i}].options", message="at least one option must not fail"))
    if errors:
        raise Invalid("the checklist items are not valid", errors)


def version_of(row: asyncpg.Record) -> TemplateVersion:
    return msgspec.convert(dict(row), TemplateVersion)


def template_of(row: asyncpg.Record) -> Template:
    current = {
        "id": row["version_id"],
        "template_id": row["id"],
        "version": row["version"],
        "name_zh": row["name_zh"],
        "name_en": row["name_en"],
        "category": row["category"],
        "items": row["items"],
        "created_by": row["created_by"],
        "created_at": row["version_created_at"],
    }
    return msgspec.convert(
        {
            "id": row["id"],
            "current_version": row["current_version"],
            "archived": row["archived"],
            "current": current,
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        },
        Template,
    )


def _template_missing(template_id: str) -> NotFound:
    return NotFound(f"template {template_id} not found", entity="template", id=template_id)


async def create_template(conn: asyncpg.Connection, caller: Caller, data: TemplateCreate) -> Template:
    require_role(caller, "admin")
    check_items(data.items)
    template_id = new_id()
    await sql.insert_template(conn, caller.org_id, template_id)
    await sql.insert_version(
        conn,
        caller.org_id,
        f"{template_id}-v1",
        template_id,
        1,
        data.name_zh,
        data.name_en,
        data.category,
        data.items,
        caller.user_id,
    )
    template = await get_template(conn, caller, template_id)
    await record_change(conn, caller, "create", "template", template_id, after=template)
    return template


async def get_template(conn: asyncpg.Connection, caller: Caller, template_id: str) -> Template:
    require_role(caller, *READERS)
    row = await sql.get_template(conn, caller.org_id, template_id)
    if row is None:
        raise _template_missing(template_id)
    return template_of(row)


async def list_templates(
    conn: asyncpg.Connection, caller: Caller, include_archived: bool, cursor: str | None, limit: int
) -> Page[Template]:
    require_role(caller, *READERS)
    rows = await sql.list_templates(conn, caller.org_id, include_archived, cursor, limit + 1)
    return page_of([template_of(r) for r in rows], limit)


async def update_template(conn: asyncpg.Connection, caller: Caller, template_id: str, data: TemplateCreate) -> Template:
    """A new version with this content, unless it is the current content already (a retried PUT)."""
    require_role(caller, *READERS)
    if not await sql.lock_template(conn, caller.org_id, template_id):
        raise _template_missing(template_id)
    require_role(caller, "admin")
    before = await get_template(conn, caller, template_id)
    if before.archived:
        raise Conflict(f"template {template_id} is archived; create a new template instead")
    check_items(data.items)
    current = before.current
    if (current.name_zh, current.name_en, current.category, current.items) == (
        data.name_zh,
        data.name_en,
        data.category,
        data.items,
    ):
        return before
    version = before.current_version + 1
    await sql.insert_version(
        conn,
        caller.org_id,
        f"{template_id}-v{version}",
        template_id,
        version,
        data.name_zh,
        data.name_en,
        data.category,
        data.items,
        caller.user_id,
    )
    await sql.set_current_version(conn, caller.org_id, template_id, version)
    after = await get_template(conn, caller, template_id)
    await record_change(conn, caller, "update", "template", template_id, before=before, after=after)
    return after


async def archive_template(conn: asyncpg.Connection, caller: Caller, template_id: str) -> None:
    """Hide the template from lists and new work; its versions stay for the rounds that use them."""
    before = await get_template(conn, caller, template_id)
    require_role(caller, "admin")
    if before.archived:
        return
    await sql.archive_template(conn, caller.org_id, template_id)
    await record_change(
        conn, caller, "archive", "template", template_id, before={"archived": False}, after={"archived": True}
    )


async def list_versions(conn: asyncpg.Connection, caller: Caller, template_id: str) -> list[TemplateVersion]:
    """Every version of the template, newest first."""
    await get_template(conn, caller, template_id)
    return [version_of(r) for r in await sql.list_versions(conn, caller.org_id, template_id)]


async def get_version(conn: asyncpg.Connection, caller: Caller, template_id: str, version: int) -> TemplateVersion:
    require_role(caller, *READERS)
    # versions are PostgreSQL integers: a larger number is simply not there
    row = await sql.get_version(conn, caller.org_id, template_id, version) if 1 <= version < 2**31 else None
    if row is None:
        raise NotFound(
            f"template {template_id} has no version {version}",
            entity="template_version",
            id=f"{template_id}-v{version}",
        )
    return version_of(row)


# Checkpoints


def check_point(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        raise Invalid(
            "a checkpoint's position needs geo_lat and geo_lon together",
            [FieldError(field=f, message="set both or neither") for f in ("geo_lat", "geo_lon")],
        )


async def check_building(conn: asyncpg.Connection, org_id: str, property_id: str, building_id: str | None) -> None:
    if building_id is None:
        return
    building = await places_sql.get_building(conn, org_id, building_id)
    if building is None or building["property_id"] != property_id:
        raise Invalid(
            "no such building in this property",
            [FieldError(field="building_id", message="not a building of this property")],
        )


def checkpoint_for(caller: Caller, row: asyncpg.Record | CheckpointOut) -> CheckpointOut:
    """The checkpoint as the caller may see it: staff get the tag's digest, not its code."""
    out = row if isinstance(row, CheckpointOut) else msgspec.convert(dict(row), CheckpointOut)
    return msgspec.structs.replace(out, tag_code=None) if caller.role == "staff" else out


async def _visible(conn: asyncpg.Connection, caller: Caller, property_id: str, missing: NotFound) -> None:
    """Objects of a property outside the caller's scope answer as missing, not as the property."""
    try:
        await require_property(conn, caller, property_id)
    except NotFound:
        raise missing from None


async def _checkpoint(conn: asyncpg.Connection, caller: Caller, checkpoint_id: str) -> CheckpointOut:
    require_role(caller, *READERS)
    row = await sql.get_checkpoint(conn, caller.org_id, checkpoint_id)
    missing = NotFound(f"checkpoint {checkpoint_id} not found", entity="checkpoint", id=checkpoint_id)
    if row is None:
        raise missing
    await _visible(conn, caller, row["property_id"], missing)
    return msgspec.convert(dict(row), CheckpointOut)


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
        "another checkpoint has this tag code",
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
    rows = await sql.list_checkpoints(conn, caller.org_id, property_id, active, cursor, limit + 1)
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
        sql.update_checkpoint(conn, caller.org_id, checkpoint_id, changes),
        "another checkpoint has this tag code",
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
        errors += [FieldError(field=f, message="set both or neither") for f in ("window_start", "window_end")]
    elif data.window_start is not None and data.window_start == data.window_end:
        errors.append(FieldError(field="window_end", message="must differ from window_start"))
    usable = await sql.active_checkpoint_ids(conn, org_id, property_id, [s.checkpoint_id for s in data.stops])
    seen: set[str] = set()
    for i, stop in enumerate(data.stops):
        field = f"stops[{i}].checkpoint_id"
        if stop.checkpoint_id in seen:
            errors.append(FieldError(field=field, message="this checkpoint is an earlier stop of the route"))
        elif stop.checkpoint_id not in usable:
            errors.append(FieldError(field=field, message="not an active checkpoint of this property"))
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
    require_role(caller, *READERS)
    row = await sql.get_route(conn, caller.org_id, route_id)
    missing = NotFound(f"route {route_id} not found", entity="route", id=route_id)
    if row is None:
        raise missing
    await _visible(conn, caller, row["property_id"], missing)
    return route_of(row)


async def list_routes(
    conn: asyncpg.Connection, caller: Caller, property_id: str, active: bool | None, cursor: str | None, limit: int
) -> Page[RouteOut]:
    await require_property(conn, caller, property_id)
    require_role(caller, *READERS)
    rows = await sql.list_routes(conn, caller.org_id, property_id, active, cursor, limit + 1)
    return page_of([route_of(r) for r in rows], limit)


async def replace_route(conn: asyncpg.Connection, caller: Caller, route_id: str, data: RouteCreate) -> RouteOut:
    """The route's plan replaced whole; rounds already made keep the copy they were made with."""
    before = await get_route(conn, caller, route_id)
    await require_property(conn, caller, before.property_id, "admin")
    await check_route(conn, caller.org_id, before.property_id, data)
    changes: dict[str, Any] = {f: getattr(data, f) for f in data.__struct_fields__}
    if all(getattr(before, f) == value for f, value in changes.items()):
        return before
    after = route_of(await sql.update_route(conn, caller.org_id, route_id, changes))
    await record_change(conn, caller, "update", "route", route_id, before=before, after=after)
    return after


async def deactivate_route(conn: asyncpg.Connection, caller: Caller, route_id: str) -> None:
    before = await get_route(conn, caller, route_id)
    await require_property(conn, caller, before.property_id, "admin")
    if not before.active:
        return
    after = route_of(await sql.update_route(conn, caller.org_id, route_id, {"active": False}))
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


async def template_version(conn: asyncpg.Connection, org_id: str, version_id: str) -> TemplateVersion | None:
    row = await sql.get_version_by_id(conn, org_id, version_id)
    return None if row is None else version_of(row)


async def current_version_id(conn: asyncpg.Connection, org_id: str, template_id: str) -> str | None:
    """The version new work should use; None when the template is unknown or archived."""
    return await sql.current_version_id(conn, org_id, template_id)


async def route_plan(conn: asyncpg.Connection, org_id: str, route_id: str) -> tuple[str, Plan] | None:
    """(property id, plan) of an active route, the plan as a round should copy it; None otherwise."""
    row = await sql.get_route(conn, org_id, route_id)
    if row is None or not row["active"]:
        return None
    stops = msgspec.convert(row["stops"], list[Stop])
    return row["property_id"], Plan(tolerance_minutes=row["tolerance_minutes"], stops=stops)


async def checkpoint(conn: asyncpg.Connection, org_id: str, checkpoint_id: str) -> dict[str, Any] | None:
    """id, property_id, name, tag_code, location and active of a checkpoint, retired ones included."""
    row = await sql.get_checkpoint(conn, org_id, checkpoint_id)
    if row is None:
        return None
    return {k: row[k] for k in ("id", "property_id", "name", "tag_code", "location", "active")}


async def default_responsible(conn: asyncpg.Connection, org_id: str, property_id: str, category: str) -> str | None:
    """Who answers for the category's findings on the property, while still active and assigned there."""
    return await sql.default_responsible(conn, org_id, property_id, category)
