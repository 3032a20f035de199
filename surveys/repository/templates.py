"""SQL for survey templates and their immutable versions. Every statement is scoped by org_id."""

from __future__ import annotations

from typing import Any

import asyncpg

from core.db import insert_row

VERSION_COLUMNS = (
    "id, template_id, version, name_zh, name_en, dimensions, questions, allow_edit, created_by, created_at"
)


async def insert_template(conn: asyncpg.Connection, org_id: str, template_id: str) -> None:
    await conn.execute("INSERT INTO survey_templates (org_id, id) VALUES ($1, $2)", org_id, template_id)


async def insert_version(conn: asyncpg.Connection, org_id: str, values: dict[str, Any]) -> asyncpg.Record:
    row = await insert_row(
        conn, "survey_template_versions", {"org_id": org_id, **values}, tail=f"RETURNING {VERSION_COLUMNS}"
    )
    assert row is not None
    return row


async def lock_template(conn: asyncpg.Connection, org_id: str, template_id: str) -> asyncpg.Record | None:
    """The template row, held until the transaction ends so concurrent edits make versions one at a time."""
    return await conn.fetchrow(
        "SELECT id, current_version, archived FROM survey_templates WHERE org_id = $1 AND id = $2 FOR UPDATE",
        org_id,
        template_id,
    )


async def set_current(conn: asyncpg.Connection, org_id: str, template_id: str, version: int) -> None:
    await conn.execute(
        "UPDATE survey_templates SET current_version = $3, updated_at = now() WHERE org_id = $1 AND id = $2",
        org_id,
        template_id,
        version,
    )


async def current_version(conn: asyncpg.Connection, org_id: str, template_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""SELECT v.{VERSION_COLUMNS.replace(", ", ", v.")} FROM survey_templates t
            JOIN survey_template_versions v
              ON v.org_id = t.org_id AND v.template_id = t.id AND v.version = t.current_version
            WHERE t.org_id = $1 AND t.id = $2""",
        org_id,
        template_id,
    )


async def version(conn: asyncpg.Connection, org_id: str, version_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {VERSION_COLUMNS} FROM survey_template_versions WHERE org_id = $1 AND id = $2", org_id, version_id
    )


async def list_current(conn: asyncpg.Connection, org_id: str, after: str | None, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT v.{VERSION_COLUMNS.replace(", ", ", v.")} FROM survey_templates t
            JOIN survey_template_versions v
              ON v.org_id = t.org_id AND v.template_id = t.id AND v.version = t.current_version
            WHERE t.org_id = $1 AND NOT t.archived AND ($2::text IS NULL OR t.id > $2)
            ORDER BY t.id LIMIT $3""",
        org_id,
        after,
        limit,
    )
