"""Checklist templates: an edit makes a new, immutable version; running rounds keep theirs. Each use case runs
inside the caller's transaction; template_version, current_version_id and current_version serve other server
code (no caller, no access checks)."""

from __future__ import annotations

import asyncpg
import msgspec

from core.access import Caller, require_role
from core.audit.service import record_change
from core.errors import Conflict, NotFound
from core.ids import new_id
from core.structs import Page, page_of
from inspections.checks import check_items
from inspections.models import Template, TemplateVersion
from inspections.repository import setup as sql
from inspections.schemas import TemplateCreate
from inspections.setup import Refused

# who works with templates: everyone but owners
READERS = ("admin", "supervisor", "staff")


# Templates


def version_of(row: asyncpg.Record) -> TemplateVersion:
    return msgspec.convert(dict(row), TemplateVersion)


def template_of(row: asyncpg.Record) -> Template:
    current = {k: row[k] for k in ("version", "name_zh", "name_en", "category", "items", "created_by")}
    current |= {"id": row["version_id"], "template_id": row["id"], "created_at": row["version_created_at"]}
    template = {k: row[k] for k in ("id", "current_version", "archived", "created_at", "updated_at")}
    return msgspec.convert(template | {"current": current}, Template)


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


# For other server code: no caller, no access checks.


async def template_version(conn: asyncpg.Connection, org_id: str, version_id: str) -> TemplateVersion | None:
    row = await sql.get_version_by_id(conn, org_id, version_id)
    return None if row is None else version_of(row)


async def current_version_id(conn: asyncpg.Connection, org_id: str, template_id: str) -> str | None:
    """The version new work should use; None when the template is unknown or archived."""
    return await sql.current_version_id(conn, org_id, template_id)


async def current_version(conn: asyncpg.Connection, org_id: str, template_id: str) -> str:
    """The version new work names must use: refused when the template is unknown or archived."""
    version_id = await current_version_id(conn, org_id, template_id)
    if version_id is None:
        raise Refused("template_id", "not found or archived")
    return version_id
