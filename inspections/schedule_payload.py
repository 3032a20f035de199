"""What an inspection_round schedule's payload names, checked against its property: a current checklist
template, an active route of the property, and assignees who work there. core.schedules takes this as its
payload check, since the kernel does not import the inspections."""

from __future__ import annotations

import asyncpg

from core.errors import FieldError, Invalid
from core.people import repository as people_sql
from inspections import setup, templates
from inspections.schedules import RoundPayload

ASSIGNEE_ROLES = ("staff", "supervisor")


async def check_round_payload(conn: asyncpg.Connection, org_id: str, property_id: str, payload: RoundPayload) -> None:
    errors: list[FieldError] = []
    if await templates.current_version_id(conn, org_id, payload.template_id) is None:
        errors.append(FieldError(field="payload.template_id", message="not found or archived"))
    if payload.route_id is not None:
        route = await setup.route_plan(conn, org_id, payload.route_id)
        if route is None or route[0] != property_id:
            errors.append(FieldError(field="payload.route_id", message="not an active route of this property"))
    seen: set[str] = set()
    for i, user_id in enumerate(payload.assignee_ids):
        field = f"payload.assignee_ids[{i}]"
        if user_id in seen:
            errors.append(FieldError(field=field, message="listed twice"))
        elif await people_sql.works_on(conn, org_id, user_id, property_id) not in ASSIGNEE_ROLES:
            errors.append(FieldError(field=field, message="not staff or a supervisor of this property"))
        seen.add(user_id)
    if errors:
        raise Invalid("the round schedule's payload is not valid", errors)
