"""Who a property's tickets of a category go to when nobody is named (as the rectification defaults do for
orders): set by its supervisors and admins, to someone on the property's staff."""

from __future__ import annotations

import asyncpg

from core.access import Caller, require_property
from core.audit.service import record_change
from core.errors import FieldError, Invalid, NotFound
from core.people import repository as people_sql
from core.vocabulary import CATEGORIES
from servicedesk.repository import tickets as sql
from servicedesk.schemas import AssigneeOut, AssigneeSet


async def check_assignee(
    conn: asyncpg.Connection, org_id: str, property_id: str, user_id: str, field: str = "assignee_id"
) -> None:
    """Tickets go to the property's staff or supervisors, never to an owner or a stranger (`field`: where the
    request named them)."""
    if await people_sql.works_on(conn, org_id, user_id, property_id) is None:
        message = "not an active member of this property's staff"
        raise Invalid(f"{field}: {message}", [FieldError(field=field, message=message)])


async def list_assignees(conn: asyncpg.Connection, caller: Caller, property_id: str) -> list[AssigneeOut]:
    await require_property(conn, caller, property_id)
    return [AssigneeOut(**dict(row)) for row in await sql.list_assignees(conn, caller.org_id, property_id)]


def _check_category(category: str) -> None:
    if category not in CATEGORIES:
        raise NotFound(f"no category {category}: {', '.join(CATEGORIES)}", entity="ticket_assignee")


async def set_assignee(
    conn: asyncpg.Connection, caller: Caller, property_id: str, category: str, data: AssigneeSet
) -> AssigneeOut:
    await require_property(conn, caller, property_id, "supervise")
    _check_category(category)
    await check_assignee(conn, caller.org_id, property_id, data.user_id, "user_id")
    await sql.set_assignee(conn, caller.org_id, property_id, category, data.user_id)
    out = AssigneeOut(category=category, user_id=data.user_id)  # type: ignore[arg-type]
    await record_change(conn, caller, "ticket_assignee.set", "ticket_assignee", f"{property_id}:{category}", after=out)
    return out


async def remove_assignee(conn: asyncpg.Connection, caller: Caller, property_id: str, category: str) -> None:
    await require_property(conn, caller, property_id, "supervise")
    _check_category(category)
    if not await sql.delete_assignee(conn, caller.org_id, property_id, category):
        raise NotFound(f"no default person for {category} on property {property_id}", entity="ticket_assignee")
    await record_change(conn, caller, "ticket_assignee.remove", "ticket_assignee", f"{property_id}:{category}")
