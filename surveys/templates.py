"""Survey templates: an edit makes a new, immutable version; a campaign keeps the version it started with."""

from __future__ import annotations

import asyncpg
import msgspec

from core.access import Caller, require_role
from core.audit.service import record_change
from core.errors import Conflict, NotFound
from core.ids import new_id
from core.structs import Page, cursor_after
from surveys.models import SurveyTemplateIn, require_valid_template
from surveys.repository import templates as sql
from surveys.schemas import SurveyTemplateVersion

READERS = ("admin", "supervisor")


def version_of(row: asyncpg.Record) -> SurveyTemplateVersion:
    return msgspec.convert(dict(row), SurveyTemplateVersion)


# Versions never change once made (an edit makes a new one), so every process may keep the ones it read.
_KEPT_VERSIONS: dict[tuple[str, str], SurveyTemplateVersion] = {}
KEEP_VERSIONS = 256


async def kept_version(conn: asyncpg.Connection, org_id: str, version_id: str) -> SurveyTemplateVersion | None:
    """A template version, read once per process (the survey page reads it on every visit)."""
    key = (org_id, version_id)
    if (kept := _KEPT_VERSIONS.get(key)) is not None:
        return kept
    row = await sql.version(conn, org_id, version_id)
    if row is None:
        return None
    if len(_KEPT_VERSIONS) >= KEEP_VERSIONS:
        _KEPT_VERSIONS.pop(next(iter(_KEPT_VERSIONS)))
    _KEPT_VERSIONS[key] = version = version_of(row)
    return version


def _missing(template_id: str) -> NotFound:
    return NotFound(f"survey template {template_id} not found", entity="survey_template", id=template_id)


def _content(data: SurveyTemplateIn) -> dict[str, object]:
    return {
        "name_zh": data.name_zh,
        "name_en": data.name_en,
        "dimensions": msgspec.to_builtins(data.dimensions),
        "questions": msgspec.to_builtins(data.questions),
        "allow_edit": data.allow_edit,
    }


async def create_template(conn: asyncpg.Connection, caller: Caller, data: SurveyTemplateIn) -> SurveyTemplateVersion:
    require_role(caller, "admin")
    require_valid_template(data)
    template_id = new_id()
    await sql.insert_template(conn, caller.org_id, template_id)
    row = await sql.insert_version(
        conn,
        caller.org_id,
        {
            "id": f"{template_id}-v1",
            "template_id": template_id,
            "version": 1,
            **_content(data),
            "created_by": caller.user_id,
        },
    )
    created = version_of(row)
    await record_change(conn, caller, "survey_template.create", "survey_template", template_id, after=created)
    return created


async def get_template(conn: asyncpg.Connection, caller: Caller, template_id: str) -> SurveyTemplateVersion:
    require_role(caller, *READERS)
    row = await sql.current_version(conn, caller.org_id, template_id)
    if row is None:
        raise _missing(template_id)
    return version_of(row)


async def list_templates(
    conn: asyncpg.Connection, caller: Caller, cursor: str | None, limit: int
) -> Page[SurveyTemplateVersion]:
    require_role(caller, *READERS)
    rows = await sql.list_current(conn, caller.org_id, cursor, limit + 1)
    items = [version_of(r) for r in rows]
    more = len(items) > limit
    items = items[:limit]
    return Page(items=items, next_cursor=cursor_after(items[-1].template_id) if more else None)


async def update_template(
    conn: asyncpg.Connection, caller: Caller, template_id: str, data: SurveyTemplateIn
) -> SurveyTemplateVersion:
    """A new version with this content, unless it is the current content already (a retried PUT)."""
    require_role(caller, "admin")
    template = await sql.lock_template(conn, caller.org_id, template_id)
    if template is None:
        raise _missing(template_id)
    if template["archived"]:
        raise Conflict(f"survey template {template_id} is archived")
    require_valid_template(data)
    current = await get_template(conn, caller, template_id)
    content = _content(data)
    if {k: v for k, v in msgspec.to_builtins(current).items() if k in content} == content:
        return current
    number = template["current_version"] + 1
    row = await sql.insert_version(
        conn,
        caller.org_id,
        {
            "id": f"{template_id}-v{number}",
            "template_id": template_id,
            "version": number,
            **content,
            "created_by": caller.user_id,
        },
    )
    await sql.set_current(conn, caller.org_id, template_id, number)
    updated = version_of(row)
    await record_change(
        conn, caller, "survey_template.update", "survey_template", template_id, before=current, after=updated
    )
    return updated
