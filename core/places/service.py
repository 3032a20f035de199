"""Use cases for properties, buildings and units. Each takes a connection inside the caller's transaction."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg
import msgspec

from core.access import Caller, found_in_scope, require_property, visible_property_ids
from core.audit.service import record_change
from core.db import changes_of, unique_or_conflict
from core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from core.ids import new_id
from core.places import repository as sql
from core.places.models import Building, Property, Unit
from core.places.schemas import (
    BuildingCreate,
    BuildingUpdate,
    PropertyCreate,
    PropertyUpdate,
    UnitCreate,
    UnitUpdate,
)
from core.structs import Page, page_of


def check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(
            "unknown time zone", [FieldError(field="timezone", message=f"{name!r} is not an IANA time zone")]
        ) from None


def check_geofence(lat: float | None, lon: float | None, radius: int | None) -> None:
    given = [v is not None for v in (lat, lon, radius)]
    if any(given) and not all(given):
        raise Invalid(
            "a geofence needs geo_lat, geo_lon and geo_radius_m together",
            [FieldError(field=f, message="set all three or none") for f in ("geo_lat", "geo_lon", "geo_radius_m")],
        )


# Properties


async def create_property(conn: asyncpg.Connection, caller: Caller, data: PropertyCreate) -> Property:
    if not caller.is_admin:
        raise Forbidden("only an admin can create properties", required_role="admin")
    check_timezone(data.timezone)
    check_geofence(data.geo_lat, data.geo_lon, data.geo_radius_m)
    row = await unique_or_conflict(
        sql.insert_property(
            conn,
            caller.org_id,
            new_id(),
            data.name,
            data.address,
            data.timezone,
            data.geo_lat,
            data.geo_lon,
            data.geo_radius_m,
        ),
        f"a property named {data.name!r} exists already",
        "name",
    )
    prop = msgspec.convert(dict(row), Property)
    await record_change(conn, caller, "create", "property", prop.id, after=prop)
    return prop


async def get_property(conn: asyncpg.Connection, caller: Caller, property_id: str) -> Property:
    await require_property(conn, caller, property_id)
    row = await sql.get_property(conn, caller.org_id, property_id)
    assert row is not None
    return msgspec.convert(dict(row), Property)


async def list_properties(conn: asyncpg.Connection, caller: Caller, cursor: str | None, limit: int) -> Page[Property]:
    ids = await visible_property_ids(conn, caller)
    rows = await sql.list_properties(conn, caller.org_id, ids, cursor, limit + 1)
    return page_of([msgspec.convert(dict(r), Property) for r in rows], limit)


async def update_property(conn: asyncpg.Connection, caller: Caller, property_id: str, data: PropertyUpdate) -> Property:
    before = await get_property(conn, caller, property_id)
    await require_property(conn, caller, property_id, "admin")
    changes = changes_of(data)
    if "timezone" in changes:
        check_timezone(data.timezone)  # type: ignore[arg-type]
    merged = msgspec.structs.replace(before, **changes)
    check_geofence(merged.geo_lat, merged.geo_lon, merged.geo_radius_m)
    if not changes:
        return before
    row = await unique_or_conflict(
        sql.update_property(conn, caller.org_id, property_id, changes),
        "a property with that name exists already",
        "name",
    )
    after = msgspec.convert(dict(row), Property)
    await record_change(conn, caller, "update", "property", property_id, before=before, after=after)
    return after


async def delete_property(conn: asyncpg.Connection, caller: Caller, property_id: str) -> None:
    before = await get_property(conn, caller, property_id)
    await require_property(conn, caller, property_id, "admin")
    try:
        await sql.delete_property(conn, caller.org_id, property_id)
    except asyncpg.ForeignKeyViolationError:
        raise Conflict("the property still has buildings; delete them first") from None
    await record_change(conn, caller, "delete", "property", property_id, before=before)


# Buildings


async def create_building(conn: asyncpg.Connection, caller: Caller, property_id: str, data: BuildingCreate) -> Building:
    await require_property(conn, caller, property_id, "admin")
    row = await unique_or_conflict(
        sql.insert_building(conn, caller.org_id, new_id(), property_id, data.name),
        f"building {data.name!r} exists already in this property",
        "name",
    )
    building = msgspec.convert(dict(row), Building)
    await record_change(conn, caller, "create", "building", building.id, after=building)
    return building


async def get_building(conn: asyncpg.Connection, caller: Caller, building_id: str) -> Building:
    row = await sql.get_building(conn, caller.org_id, building_id)
    missing = NotFound(f"building {building_id} not found", entity="building", id=building_id)
    return msgspec.convert(dict(await found_in_scope(conn, caller, row, missing)), Building)


async def list_buildings(
    conn: asyncpg.Connection, caller: Caller, property_id: str, cursor: str | None, limit: int
) -> Page[Building]:
    await require_property(conn, caller, property_id)
    rows = await sql.list_buildings(conn, caller.org_id, property_id, cursor, limit + 1)
    return page_of([msgspec.convert(dict(r), Building) for r in rows], limit)


async def update_building(conn: asyncpg.Connection, caller: Caller, building_id: str, data: BuildingUpdate) -> Building:
    before = await get_building(conn, caller, building_id)
    await require_property(conn, caller, before.property_id, "admin")
    changes = changes_of(data)
    if not changes:
        return before
    row = await unique_or_conflict(
        sql.update_building(conn, caller.org_id, building_id, changes),
        "a building with that name exists already in this property",
        "name",
    )
    after = msgspec.convert(dict(row), Building)
    await record_change(conn, caller, "update", "building", building_id, before=before, after=after)
    return after


async def delete_building(conn: asyncpg.Connection, caller: Caller, building_id: str) -> None:
    before = await get_building(conn, caller, building_id)
    await require_property(conn, caller, before.property_id, "admin")
    try:
        await sql.delete_building(conn, caller.org_id, building_id)
    except asyncpg.ForeignKeyViolationError:
        raise Conflict("the building still has units; delete them first") from None
    await record_change(conn, caller, "delete", "building", building_id, before=before)


# Units


async def create_unit(conn: asyncpg.Connection, caller: Caller, property_id: str, data: UnitCreate) -> Unit:
    await require_property(conn, caller, property_id, "admin")
    building = await sql.get_building(conn, caller.org_id, data.building_id)
    if building is None or building["property_id"] != property_id:
        raise Invalid(
            "no such building in this property",
            [FieldError(field="building_id", message="not a building of this property")],
        )
    row = await unique_or_conflict(
        sql.insert_unit(
            conn, caller.org_id, new_id(), property_id, data.building_id, data.number, data.floor, data.area_m2
        ),
        f"unit {data.number!r} exists already in this building",
        "number",
    )
    unit = msgspec.convert(dict(row), Unit)
    await record_change(conn, caller, "create", "unit", unit.id, after=unit)
    return unit


async def get_unit(conn: asyncpg.Connection, caller: Caller, unit_id: str) -> Unit:
    row = await sql.get_unit(conn, caller.org_id, unit_id)
    missing = NotFound(f"unit {unit_id} not found", entity="unit", id=unit_id)
    if row is None:
        raise missing
    if caller.role == "owner":
        if unit_id not in {r["id"] for r in await sql.owned_units(conn, caller.org_id, caller.user_id)}:
            raise missing
    else:
        await found_in_scope(conn, caller, row, missing)
    return msgspec.convert(dict(row), Unit)


async def list_units(
    conn: asyncpg.Connection, caller: Caller, property_id: str, building_id: str | None, cursor: str | None, limit: int
) -> Page[Unit]:
    await require_property(conn, caller, property_id)
    if caller.role == "owner":
        raise Forbidden("owners see only their own units (GET /me)", required_role=["admin", "supervisor", "staff"])
    rows = await sql.list_units(conn, caller.org_id, property_id, building_id, cursor, limit + 1)
    return page_of([msgspec.convert(dict(r), Unit) for r in rows], limit)


async def update_unit(conn: asyncpg.Connection, caller: Caller, unit_id: str, data: UnitUpdate) -> Unit:
    before = await get_unit(conn, caller, unit_id)
    await require_property(conn, caller, before.property_id, "admin")
    changes = changes_of(data)
    if not changes:
        return before
    row = await unique_or_conflict(
        sql.update_unit(conn, caller.org_id, unit_id, changes),
        "a unit with that number exists already in this building",
        "number",
    )
    after = msgspec.convert(dict(row), Unit)
    await record_change(conn, caller, "update", "unit", unit_id, before=before, after=after)
    return after


async def delete_unit(conn: asyncpg.Connection, caller: Caller, unit_id: str) -> None:
    before = await get_unit(conn, caller, unit_id)
    await require_property(conn, caller, before.property_id, "admin")
    try:
        await sql.delete_unit(conn, caller.org_id, unit_id)
    except asyncpg.ForeignKeyViolationError:
        raise Conflict("the unit still has owners linked; unlink them first") from None
    await record_change(conn, caller, "delete", "unit", unit_id, before=before)
