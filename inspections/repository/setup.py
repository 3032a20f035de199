"""SQL for the inspection setup: checklist templates and their versions, checkpoints, routes, and who answers
for a category of findings by default. Every statement is scoped by org_id; jsonb values go in and come out
through the pool's msgspec codec (Structs in, plain lists and dicts out)."""

from __future__ import annotations

from typing import Literal

import asyncpg

from core.db import insert_returning, update_row

# a template joined with its current version
TEMPLATE_SELECT = """
    SELECT t.id, t.current_version, t.archived, t.created_at, t.updated_at,
           v.id AS version_id, v.version, v.name_zh, v.name_en, v.category, v.items, v.created_by,
           v.created_at AS version_created_at
      FROM checklist_templates t
      JOIN template_versions v ON v.org_id = t.org_id AND v.template_id = t.id AND v.version = t.current_version"""
VERSION_COLUMNS = "id, template_id, version, name_zh, name_en, category, items, created_by, created_at"
CHECKPOINT_COLUMNS = (
    "id, property_id, name, tag_code, tag_digest, building_id, location, geo_lat, geo_lon, active, "
    "created_at, updated_at"
)
ROUTE_COLUMNS = (
    "id, property_id, name, stops, tolerance_minutes, window_start, window_end, active, created_at, updated_at"
)


# Templates and versions


async def insert_template(conn: asyncpg.Connection, org_id: str, id: str) -> None:
    await conn.execute("INSERT INTO checklist_templates (org_id, id) VALUES ($1, $2)", org_id, id)


async def insert_version(
    conn: asyncpg.Connection,
    org_id: str,
    id: str,
    template_id: str,
    version: int,
    name_zh: str,
    name_en: str,
    category: str,
    items: object,
    created_by: str | None,
) -> asyncpg.Record:
    return await insert_returning(
        conn,
        f"""INSERT INTO template_versions
                (org_id, id, template_id, version, name_zh, name_en, category, items, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {VERSION_COLUMNS}""",
        org_id,
        id,
        template_id,
        version,
        name_zh,
        name_en,
        category,
        items,
        created_by,
    )


async def get_template(conn: asyncpg.Connection, org_id: str, id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"{TEMPLATE_SELECT} WHERE t.org_id = $1 AND t.id = $2", org_id, id)


async def lock_template(conn: asyncpg.Connection, org_id: str, id: str) -> bool:
    """Hold the template row until the transaction ends, so concurrent edits make versions one at a time."""
    row = await conn.fetchrow("SELECT 1 FROM checklist_templates WHERE org_id = $1 AND id = $2 FOR UPDATE", org_id, id)
    return row is not None


async def list_templates(
    conn: asyncpg.Connection, org_id: str, include_archived: bool, after: str | None, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""{TEMPLATE_SELECT}
            WHERE t.org_id = $1 AND ($2 OR NOT t.archived) AND ($3::text IS NULL OR t.id > $3)
            ORDER BY t.id LIMIT $4""",
        org_id,
        include_archived,
        after,
        limit,
    )


async def set_current_version(conn: asyncpg.Connection, org_id: str, id: str, version: int) -> None:
    await update_row(
        conn, "checklist_templates", org_id=org_id, row_id=id, changes={"current_version": version}, returning="id"
    )


async def archive_template(conn: asyncpg.Connection, org_id: str, id: str) -> None:
    await update_row(conn, "checklist_templates", org_id=org_id, row_id=id, changes={"archived": True}, returning="id")


async def list_versions(conn: asyncpg.Connection, org_id: str, template_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {VERSION_COLUMNS} FROM template_versions WHERE org_id = $1 AND template_id = $2
            ORDER BY version DESC""",
        org_id,
        template_id,
    )


async def get_version(conn: asyncpg.Connection, org_id: str, template_id: str, version: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {VERSION_COLUMNS} FROM template_versions WHERE org_id = $1 AND template_id = $2 AND version = $3",
        org_id,
        template_id,
        version,
    )


async def get_version_by_id(conn: asyncpg.Connection, org_id: str, id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {VERSION_COLUMNS} FROM template_versions WHERE org_id = $1 AND id = $2", org_id, id
    )


async def current_version_id(conn: asyncpg.Connection, org_id: str, template_id: str) -> str | None:
    value: str | None = await conn.fetchval(
        """SELECT v.id FROM checklist_templates t
             JOIN template_versions v ON v.org_id = t.org_id AND v.template_id = t.id AND v.version = t.current_version
            WHERE t.org_id = $1 AND t.id = $2 AND NOT t.archived""",
        org_id,
        template_id,
    )
    return value


# Checkpoints and routes: a property's, read and changed alike

COLUMNS = {"checkpoints": CHECKPOINT_COLUMNS, "routes": ROUTE_COLUMNS}
OfProperty = Literal["checkpoints", "routes"]


async def get_one(conn: asyncpg.Connection, table: OfProperty, org_id: str, id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {COLUMNS[table]} FROM {table} WHERE org_id = $1 AND id = $2", org_id, id)


async def list_of_property(
    conn: asyncpg.Connection,
    table: OfProperty,
    org_id: str,
    property_id: str,
    active: bool | None,
    after: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {COLUMNS[table]} FROM {table}
            WHERE org_id = $1 AND property_id = $2 AND ($3::boolean IS NULL OR active = $3)
              AND ($4::text IS NULL OR id > $4)
            ORDER BY id LIMIT $5""",
        org_id,
        property_id,
        active,
        after,
        limit,
    )


async def update_one(
    conn: asyncpg.Connection, table: OfProperty, org_id: str, id: str, changes: dict[str, object]
) -> asyncpg.Record:
    return await update_row(conn, table, org_id=org_id, row_id=id, changes=changes, returning=COLUMNS[table])


async def insert_checkpoint(
    conn: asyncpg.Connection,
    org_id: str,
    id: str,
    property_id: str,
    name: str,
    tag_code: str,
    building_id: str | None,
    location: str,
    geo_lat: float | None,
    geo_lon: float | None,
) -> asyncpg.Record:
    return await insert_returning(
        conn,
        f"""INSERT INTO checkpoints (org_id, id, property_id, name, tag_code, building_id, location, geo_lat, geo_lon)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {CHECKPOINT_COLUMNS}""",
        org_id,
        id,
        property_id,
        name,
        tag_code,
        building_id,
        location,
        geo_lat,
        geo_lon,
    )


async def active_checkpoint_ids(conn: asyncpg.Connection, org_id: str, property_id: str, ids: list[str]) -> set[str]:
    rows = await conn.fetch(
        "SELECT id FROM checkpoints WHERE org_id = $1 AND property_id = $2 AND active AND id = ANY($3)",
        org_id,
        property_id,
        ids,
    )
    return {r["id"] for r in rows}


async def insert_route(
    conn: asyncpg.Connection,
    org_id: str,
    id: str,
    property_id: str,
    name: str,
    stops: object,
    tolerance_minutes: int,
    window_start: str | None,
    window_end: str | None,
) -> asyncpg.Record:
    return await insert_returning(
        conn,
        f"""INSERT INTO routes (org_id, id, property_id, name, stops, tolerance_minutes, window_start, window_end)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {ROUTE_COLUMNS}""",
        org_id,
        id,
        property_id,
        name,
        stops,
        tolerance_minutes,
        window_start,
        window_end,
    )


# Default responsible person per property and category


async def assigned_person(
    conn: asyncpg.Connection, org_id: str, property_id: str, user_id: str
) -> asyncpg.Record | None:
    """The user's role, name and active flag if they are assigned to the property."""
    return await conn.fetchrow(
        """SELECT u.id, u.name, u.role, u.active
             FROM property_staff s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id
            WHERE s.org_id = $1 AND s.property_id = $2 AND s.user_id = $3""",
        org_id,
        property_id,
        user_id,
    )


DEFAULT_SELECT = """
    SELECT d.property_id, d.category, d.user_id, u.name AS user_name
      FROM rectification_defaults d JOIN users u ON u.org_id = d.org_id AND u.id = d.user_id"""


async def get_default(conn: asyncpg.Connection, org_id: str, property_id: str, category: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"{DEFAULT_SELECT} WHERE d.org_id = $1 AND d.property_id = $2 AND d.category = $3",
        org_id,
        property_id,
        category,
    )


async def list_defaults(conn: asyncpg.Connection, org_id: str, property_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"{DEFAULT_SELECT} WHERE d.org_id = $1 AND d.property_id = $2 ORDER BY d.category", org_id, property_id
    )


async def upsert_default(conn: asyncpg.Connection, org_id: str, property_id: str, category: str, user_id: str) -> None:
    await conn.execute(
        """INSERT INTO rectification_defaults (org_id, property_id, category, user_id) VALUES ($1, $2, $3, $4)
           ON CONFLICT (org_id, property_id, category) DO UPDATE SET user_id = EXCLUDED.user_id""",
        org_id,
        property_id,
        category,
        user_id,
    )


async def delete_default(conn: asyncpg.Connection, org_id: str, property_id: str, category: str) -> None:
    await conn.execute(
        "DELETE FROM rectification_defaults WHERE org_id = $1 AND property_id = $2 AND category = $3",
        org_id,
        property_id,
        category,
    )


async def default_responsible(conn: asyncpg.Connection, org_id: str, property_id: str, category: str) -> str | None:
    """The default, while that person is still active and assigned to the property."""
    value: str | None = await conn.fetchval(
        """SELECT d.user_id FROM rectification_defaults d
             JOIN users u ON u.org_id = d.org_id AND u.id = d.user_id AND u.active
             JOIN property_staff s ON s.org_id = d.org_id AND s.property_id = d.property_id AND s.user_id = d.user_id
            WHERE d.org_id = $1 AND d.property_id = $2 AND d.category = $3""",
        org_id,
        property_id,
        category,
    )
    return value
