"""What an inspection_round schedule's payload names, checked against its property by the rules a round made by
hand follows: a current checklist template, an active route of the property, and assignees who work there.
inspections/plugin.py declares it as the kind's payload check."""

from __future__ import annotations

from collections.abc import Awaitable

import asyncpg

from core.errors import FieldError, Invalid
from inspections import setup, templates
from inspections.schedules import RoundPayload


async def check_round_payload(conn: asyncpg.Connection, org_id: str, property_id: str, payload: RoundPayload) -> None:
    """Every refusal at once, each named after its field of the payload."""
    errors: list[FieldError] = []

    async def check(field: str, rule: Awaitable[object]) -> None:
        try:
            await rule
        except setup.Refused as refused:
            errors.append(FieldError(field=field, message=refused.message))

    await check("payload.template_id", templates.current_version(conn, org_id, payload.template_id))
    if payload.route_id is not None:
        await check("payload.route_id", setup.route_of_property(conn, org_id, property_id, payload.route_id))
    seen: set[str] = set()
    for i, user_id in enumerate(payload.assignee_ids):
        field = f"payload.assignee_ids[{i}]"
        if user_id in seen:
            errors.append(FieldError(field=field, message="listed twice"))
        else:
            await check(field, setup.check_assignee(conn, org_id, property_id, user_id))
        seen.add(user_id)
    if errors:
        raise Invalid("the round schedule's payload is not valid", errors)
