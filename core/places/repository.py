"""SQL for properties, buildings and units. Every statement is scoped by org_id."""

from __future__ import annotations

import asyncpg

from core.db import insert_returning, update_row

PROPERTY_COLUMNS = "id, name, address, timezone, geo_lat, geo_lon, geo_radius_m, created_at, updated_at"
BUILDING_COLUMNS = "id, property_id, name, created_at, updated_at"
UNIT_COLUMNS = "id, property_id, building_id, number, floor, area_m2::float8 AS area_m2, created_at, updated_at"


async def insert_property(
    conn: asyncpg.Connection,
    org_id: str,
    id: str,
    name: str,
    address: str,
    timezone: str,
    geo_lat: float | None,
    geo_lon: float | None,
    geo_radius_m: int | None,
) -> asyncpg.Record:
    return await insert_returning(
        conn,
        f"""INSERT INTO properties (org_id, id, name, address, timezone, geo_lat, geo_lon, geo_radius_m)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {PROPERTY_COLUMNS}""",
        org_id,
        id,
        name,
        address,
        timezone,
        geo_lat,
        geo_lon,
        geo_radius_m,
    )


async def get_property(conn: asyncpg.Connection, org_id: str, id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {PROPERTY_COLUMNS} FROM properties WHERE org_id = $1 AND id = $2", org_id, id)


async def property_timezone(conn: asyncpg.Connection, org_id: str, property_id: str) -> str:
    """The property's IANA time zone, or UTC when the property is not there."""
    zone: str | None = await conn.fetchval(
        "SELECT timezone FROM properties WHERE org_id = $1 AND id = $2", org_id, property_id
    )
    return zone or "UTC"


async def list_properties(
    conn: asyncpg.Connection, org_id: str, ids: list[str] | None, after: str | None, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {PROPERTY_COLUMNS} FROM properties
            WHERE org_id = $1 AND ($2::text[] IS NULL OR id = ANY($2)) AND ($3::text IS NULL OR id > $3)
            ORDER BY id LIMIT $4""",
        org_id,
        ids,
        after,
        limit,
    )


async def update_property(conn: asyncpg.Connection, org_id: str, id: str, changes: dict[str, object]) -> asyncpg.Record:
    return await update_row(conn, "properties", org_id=org_id, row_id=id, changes=changes, returning=PROPERTY_COLUMNS)


async def delete_property(conn: asyncpg.Connection, org_id: str, id: str) -> None:
    await conn.execute("DELETE FROM property_staff WHERE org_id = $1 AND property_id = $2", org_id, id)
    await conn.execute("DELETE FROM properties WHERE org_id = $1 AND id = $2", org_id, id)


async def insert_building(
    conn: asyncpg.Connection, org_id: str, id: str, property_id: str, name: str
) -> asyncpg.Record:
    return await insert_returning(
        conn,
        f"""INSERT INTO buildings (org_id, id, property_id, name) VALUES ($1, $2, $3, $4)
            RETURNING {BUILDING_COLUMNS}""",
        org_id,
        id,
        property_id,
        name,
    )


async def get_building(conn: asyncpg.Connection, org_id: str, id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {BUILDING_COLUMNS} FROM buildings WHERE org_id = $1 AND id = $2", org_id, id)


async def list_buildings(
    conn: asyncpg.Connection, org_id: str, property_id: str, after: str | None, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {BUILDING_COLUMNS} FROM buildings
            WHERE org_id = $1 AND property_id = $2 AND ($3::text IS NULL OR id > $3) ORDER BY id LIMIT $4""",
        org_id,
        property_id,
        after,
        limit,
    )


async def buildings_by_name(conn: asyncpg.Connection, org_id: str, property_id: str) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT name, id FROM buildings WHERE org_id = $1 AND property_id = $2", org_id, property_id
    )
    return {r["name"]: r["id"] for r in rows}


async def update_building(conn: asyncpg.Connection, org_id: str, id: str, changes: dict[str, object]) -> asyncpg.Record:
    return await update_row(conn, "buildings", org_id=org_id, row_id=id, changes=changes, returning=BUILDING_COLUMNS)


async def delete_building(conn: asyncpg.Connection, org_id: str, id: str) -> None:
    await conn.execute("DELETE FROM buildings WHERE org_id = $1 AND id = $2", org_id, id)


async def insert_unit(
    conn: asyncpg.Connection,
    org_id: str,
    id: str,
    property_id: str,
    building_id: str,
    number: str,
    floor: int | None,
    area_m2: float | None,
) -> asyncpg.Record:
    return await insert_returning(
        conn,
        f"""INSERT INTO units (org_id, id, property_id, building_id, number, floor, area_m2)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {UNIT_COLUMNS}""",
        org_id,
        id,
        property_id,
        building_id,
        number,
        floor,
        area_m2,
    )


async def get_unit(conn: asyncpg.Connection, org_id: str, id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {UNIT_COLUMNS} FROM units WHERE org_id = $1 AND id = $2", org_id, id)


async def list_units(
    conn: asyncpg.Connection,
    org_id: str,
    property_id: str | None,
    building_id: str | None,
    after: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {UNIT_COLUMNS} FROM units
            WHERE org_id = $1 AND ($2::text IS NULL OR property_id = $2) AND ($3::text IS NULL OR building_id = $3)
              AND ($4::text IS NULL OR id > $4)
            ORDER BY id LIMIT $5""",
        org_id,
        property_id,
        building_id,
        after,
        limit,
    )


async def units_by_key(
    conn: asyncpg.Connection, org_id: str, property_id: str
) -> dict[tuple[str, str], dict[str, object]]:
    """(building id, unit number) -> the unit's id, floor and area_m2."""
    rows = await conn.fetch(
        """SELECT building_id, number, id, floor, area_m2::float8 AS area_m2 FROM units
           WHERE org_id = $1 AND property_id = $2""",
        org_id,
        property_id,
    )
    return {
        (r["building_id"], r["number"]): {"id": r["id"], "floor": r["floor"], "area_m2": r["area_m2"]} for r in rows
    }


async def update_unit(conn: asyncpg.Connection, org_id: str, id: str, changes: dict[str, object]) -> asyncpg.Record:
    return await update_row(conn, "units", org_id=org_id, row_id=id, changes=changes, returning=UNIT_COLUMNS)


async def delete_unit(conn: asyncpg.Connection, org_id: str, id: str) -> None:
    await conn.execute("DELETE FROM units WHERE org_id = $1 AND id = $2", org_id, id)


# Scope: which properties and units a person can see.


async def assigned_property_ids(conn: asyncpg.Connection, org_id: str, user_id: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT property_id FROM property_staff WHERE org_id = $1 AND user_id = $2", org_id, user_id
    )
    return [r["property_id"] for r in rows]


async def owned_units(conn: asyncpg.Connection, org_id: str, user_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT u.id, u.property_id FROM unit_owners o JOIN units u ON u.org_id = o.org_id AND u.id = o.unit_id
           WHERE o.org_id = $1 AND o.user_id = $2""",
        org_id,
        user_id,
    )


async def owner_households(conn: asyncpg.Connection, org_id: str, user_id: str) -> list[asyncpg.Record]:
    """The units an owner is linked to, with their building and property (the owner's scope, as sync's)."""
    return await conn.fetch(
        """SELECT u.id AS unit_id, u.number AS unit_number, b.id AS building_id, b.name AS building_name,
                  p.id AS property_id, p.name AS property_name, p.timezone
           FROM unit_owners o JOIN units u ON u.org_id = o.org_id AND u.id = o.unit_id
           JOIN buildings b ON b.org_id = u.org_id AND b.id = u.building_id
           JOIN properties p ON p.org_id = u.org_id AND p.id = u.property_id
           WHERE o.org_id = $1 AND o.user_id = $2
           ORDER BY p.name, b.name, u.number, u.id""",
        org_id,
        user_id,
    )
