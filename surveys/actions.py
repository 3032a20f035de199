"""What the company does about a survey: improvement actions for the dimensions that scored under the campaign's
threshold (rectification orders or plain actions, several in one call), and the results published to the
property's owners, whose phones then pull the scores and the actions.

Rectification orders belong to the inspections package, which this one does not import: the API hands in an
OpenOrder that opens one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from core.access import Caller, Level, found_in_scope, require_property
from core.audit.service import record_change
from core.deadlines import Deadline, DeadlineKind
from core.errors import Conflict, FieldError, Invalid, NotFound
from core.ids import new_id
from core.notifications.service import notify
from core.people import repository as people_sql
from core.places import repository as places_sql
from core.schedules.recurrence import zone_of
from core.vocabulary import Category, Severity
from surveys import campaigns
from surveys.report import campaign_report
from surveys.repository import actions as sql
from surveys.schemas import (
    ActionDone,
    ActionIn,
    ActionsCreate,
    ImprovementAction,
    Published,
    PublishedAction,
)

# a dimension's usual rectification category (surveys.models.DIMENSIONS keys; other dimensions: "other")
CATEGORY_OF: dict[str, Category] = {
    "facilities": "engineering",
    "security": "patrol",
    "cleaning": "cleaning",
    "landscaping": "greening",
}


class OrderWanted(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    property_id: str
    category: Category
    description: str
    severity: Severity
    responsible_id: str | None
    due_at: datetime


# Opens a rectification order (source "survey") with the given id, once: (conn, caller, order, now).
OpenOrder = Callable[[asyncpg.Connection, Caller, OrderWanted, datetime], Awaitable[None]]


def action_of(row: asyncpg.Record) -> ImprovementAction:
    values = dict(row)
    values["published"] = values.pop("published_property_id") is not None
    return msgspec.convert(values, ImprovementAction)


async def create_actions(
    conn: asyncpg.Connection,
    caller: Caller,
    campaign_id: str,
    data: ActionsCreate,
    now: datetime,
    open_order: OpenOrder,
) -> list[ImprovementAction]:
    """Improvement actions for one flagged dimension of a campaign (admins). Actions made after the results were
    published are published with them at once."""
    campaign = await campaigns.get_campaign(conn, caller, campaign_id, now)
    await require_property(conn, caller, campaign.property_id, "admin")
    report = await campaign_report(conn, caller.org_id, campaign_id)
    scored = next((d for d in report.dimensions if d.key == data.dimension), None)
    if scored is None:
        raise Invalid(
            f"{data.dimension} is not a dimension of this survey",
            [FieldError(field="dimension", message="not a dimension of this survey's template")],
        )
    if not scored.flagged:
        raise Conflict(
            f"{data.dimension} is not flagged: its household score is {scored.household_score} against a "
            f"threshold of {campaign.flag_below} / 该维度未低于阈值",
            code="dimension_not_flagged",
            household_score=scored.household_score,
            flag_below=campaign.flag_below,
        )
    await _check_actions(conn, caller, campaign.property_id, data.actions, now)
    published = campaign.property_id if campaign.published_at is not None else None
    made = []
    for given in data.actions:
        action_id = given.id or new_id()
        order_id = None
        if given.kind == "order":
            order_id = action_id
            await open_order(
                conn,
                caller,
                OrderWanted(
                    id=order_id,
                    property_id=campaign.property_id,
                    category=given.category or CATEGORY_OF.get(data.dimension, "other"),
                    description=f"{given.title_zh} / {given.title_en}（{scored.name_zh} {scored.household_score}）",
                    severity=given.severity,
                    responsible_id=given.responsible_id,
                    due_at=given.due_at,
                ),
                now,
            )
        values = {
            "id": action_id,
            "campaign_id": campaign_id,
            "property_id": campaign.property_id,
            "dimension": data.dimension,
            "kind": given.kind,
            "title_zh": given.title_zh,
            "title_en": given.title_en,
            "responsible_id": given.responsible_id,
            "due_at": given.due_at,
            "order_id": order_id,
            "published_property_id": published,
            "created_by": caller.user_id,
        }
        if await sql.insert_action(conn, caller.org_id, values):
            await record_change(conn, caller, "survey_action.create", "survey_action", action_id, after=values)
            if given.kind == "action":  # an order reaches its person's phone through sync, with its reminders
                await _tell_responsible(conn, caller.org_id, values, scored.name_zh, scored.name_en)
        made.append(action_id)
    rows = await sql.actions_by_ids(conn, caller.org_id, made)
    for row in rows:
        if row["campaign_id"] != campaign_id:
            raise Conflict(f"action {row['id']} belongs to another campaign", code="id_taken", id=row["id"])
    return [action_of(r) for r in rows]


async def _tell_responsible(
    conn: asyncpg.Connection, org_id: str, action: dict[str, Any], dimension_zh: str, dimension_en: str
) -> None:
    zone = zone_of(await places_sql.property_timezone(conn, org_id, action["property_id"]))
    due = action["due_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M")
    await notify(
        conn,
        org_id=org_id,
        dedupe_key=f"survey-action:{action['id']}",
        kind="survey_action",
        recipients=[action["responsible_id"]],
        title_zh=f"整改措施（{dimension_zh}）：{action['title_zh']}",
        title_en=f"Improvement action ({dimension_en}): {action['title_en']}",
        body_zh=f"请于 {due} 前完成。",
        body_en=f"Due by {due}.",
        property_id=action["property_id"],
        record_table="survey_actions",
        record_id=action["id"],
    )


async def _check_actions(
    conn: asyncpg.Connection, caller: Caller, property_id: str, actions: list[ActionIn], now: datetime
) -> None:
    errors: list[FieldError] = []
    ids = [given.id for given in actions if given.id is not None]
    for i, given in enumerate(actions):
        if given.id is not None and ids.count(given.id) > 1:
            errors.append(FieldError(field=f"actions[{i}].id", message="given to more than one action"))
        if given.due_at <= now:
            errors.append(FieldError(field=f"actions[{i}].due_at", message="a deadline must be in the future"))
        if given.kind == "action" and given.responsible_id is None:
            errors.append(FieldError(field=f"actions[{i}].responsible_id", message="a plain action needs a person"))
        if given.responsible_id is not None and not await people_sql.works_on(
            conn, caller.org_id, given.responsible_id, property_id
        ):
            errors.append(
                FieldError(field=f"actions[{i}].responsible_id", message="not an admin or staff of this property")
            )
    if errors:
        raise Invalid("the improvement actions are not valid", errors)


async def list_actions(
    conn: asyncpg.Connection, caller: Caller, campaign_id: str, now: datetime
) -> list[ImprovementAction]:
    await campaigns.get_campaign(conn, caller, campaign_id, now)  # who may see them
    return [action_of(r) for r in await sql.campaign_actions(conn, caller.org_id, campaign_id)]


async def complete_action(
    conn: asyncpg.Connection, caller: Caller, action_id: str, data: ActionDone, now: datetime
) -> ImprovementAction:
    """A plain action is done: by its person, or a supervisor or admin of the property. An order's action is done
    when its order is verified."""
    row = await sql.action(conn, caller.org_id, action_id, lock=True)
    missing = NotFound(f"improvement action {action_id} not found", entity="survey_action", id=action_id)
    level: Level = "read" if row is not None and row["responsible_id"] == caller.user_id else "supervise"
    row = await found_in_scope(conn, caller, row, missing, level)
    if row["kind"] == "order":
        raise Conflict(
            "this action is a rectification order: it is done when the order is verified / 整改单验收后自动完成",
            code="action_is_an_order",
            order_id=row["order_id"],
        )
    if row["status"] == "done":
        return action_of(row)
    await sql.mark_done(conn, caller.org_id, action_id, now, data.note)
    after = await sql.action(conn, caller.org_id, action_id)
    assert after is not None
    done = action_of(after)
    await record_change(
        conn, caller, "survey_action.done", "survey_action", action_id, before=action_of(row), after=done
    )
    return done


async def actions_due_by(conn: asyncpg.Connection, horizon: datetime) -> list[Deadline]:
    """Open plain actions due by `horizon`, for the kernel's deadline chaser: their person is reminded and told
    when it is overdue (an action without one, the property's supervisors), then it is escalated."""
    return [
        Deadline(
            org_id=row["org_id"],
            property_id=row["property_id"],
            record_table="survey_actions",
            record_id=row["id"],
            key=f"survey-action:{row['id']}",
            due_at=row["due_at"],
            responsible_ids=(row["responsible_id"],) if row["responsible_id"] else (),
            summary=f"{row['title_zh']} / {row['title_en']}"[:80],
            data={"campaign_id": row["campaign_id"], "dimension": row["dimension"]},
        )
        for row in await sql.open_plain_actions_due_by(conn, horizon)
    ]


ACTION_DEADLINES = DeadlineKind(
    name="survey_action",
    about_zh="满意度改进事项",
    about_en="a survey improvement action",
    texts={
        "remind": ("改进事项即将到期：{d}", "Improvement action due soon: {d}"),
        "overdue": ("改进事项已逾期：{d}", "Improvement action overdue: {d}"),
        "escalate-supervisors": (
            "改进事项逾期升级（主管）：{d}",
            "Overdue improvement action escalated to supervisors: {d}",
        ),
        "escalate-admins": (
            "改进事项逾期升级（项目经理）：{d}",
            "Overdue improvement action escalated to management: {d}",
        ),
    },
    due_by=actions_due_by,
)


async def publish(conn: asyncpg.Connection, caller: Caller, campaign_id: str, now: datetime) -> Published:
    """Publish a closed campaign's report and its actions to the property's owners (admins). Publishing again
    brings what owners see up to date (new actions, their states)."""
    campaign = await campaigns.get_campaign(conn, caller, campaign_id, now)
    await require_property(conn, caller, campaign.property_id, "admin")
    if campaign.state != "closed":
        raise Conflict(
            "results are published once the survey has closed / 调查结束后才能公布结果",
            code="survey_not_closed",
            closes_at=campaign.closes_at.isoformat(),
        )
    await sql.publish_actions(conn, caller.org_id, campaign_id, campaign.property_id)
    actions = [action_of(r) for r in await sql.campaign_actions(conn, caller.org_id, campaign_id)]
    published = Published(
        campaign_id=campaign_id,
        name_zh=campaign.name_zh,
        name_en=campaign.name_en,
        published_at=campaign.published_at or now,
        report=await campaign_report(conn, caller.org_id, campaign_id),
        actions=[
            PublishedAction(**{name: getattr(a, name) for name in PublishedAction.__struct_fields__}) for a in actions
        ],
    )
    await sql.set_results(conn, caller.org_id, campaign_id, published.published_at, msgspec.to_builtins(published))
    await record_change(
        conn,
        caller,
        "campaign.publish",
        "campaign",
        campaign_id,
        after={"published_at": published.published_at, "actions": len(actions)},
    )
    owners = await people_sql.owners_of_property(conn, caller.org_id, campaign.property_id)
    await notify(
        conn,
        org_id=caller.org_id,
        dedupe_key=f"survey-results:{campaign_id}",
        kind="survey_results",
        recipients=owners,
        title_zh=f"{campaign.name_zh}结果已公布",
        title_en=f"Results of {campaign.name_en} are published",
        body_zh=f"综合满意度 {published.report.overall_household_score}，整改措施 {len(actions)} 项。",
        body_en=f"Overall satisfaction {published.report.overall_household_score}; {len(actions)} improvement actions.",
        property_id=campaign.property_id,
        record_table="survey_campaigns",
        record_id=campaign_id,
    )
    return published
