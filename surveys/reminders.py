"""Reminders to households that have not answered a survey that closes soon: once per campaign and household,
to the unit's owners' inboxes (which their phones sync). Whether a household answered is known even in an
anonymous campaign (it keeps one response per household); what it answered is not."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from core.notifications.service import notify
from core.places import repository as places_sql
from core.schedules.recurrence import zone_of
from surveys.repository import campaigns as sql

# how long before a campaign closes its households are reminded
REMIND_BEFORE = timedelta(days=3)


async def remind_unanswered(conn: asyncpg.Connection, now: datetime, *, limit: int = 5000) -> int:
    """Remind every household of every campaign closing within REMIND_BEFORE; returns how many were new."""
    sent = 0
    zones: dict[tuple[str, str], str] = {}
    for row in await sql.unanswered_owners(conn, now, now + REMIND_BEFORE, limit):
        key = (row["org_id"], row["property_id"])
        if key not in zones:
            zones[key] = await places_sql.property_timezone(conn, row["org_id"], row["property_id"])
        closes = row["closes_at"].astimezone(zone_of(zones[key])).strftime("%Y-%m-%d %H:%M")
        sent += await notify(
            conn,
            org_id=row["org_id"],
            dedupe_key=f"survey-reminder:{row['campaign_id']}:{row['unit_id']}",
            kind="survey_reminder",
            recipients=row["owners"],
            title_zh=f"请填写{row['name_zh']}",
            title_en=f"Please answer: {row['name_en']}",
            body_zh=f"调查将于 {closes} 结束，您的意见对我们很重要。",
            body_en=f"The survey closes at {closes}. Your answers matter to us.",
            property_id=row["property_id"],
            record_table="survey_campaigns",
            record_id=row["campaign_id"],
            data={"campaign_id": row["campaign_id"], "unit_id": row["unit_id"]},
        )
        # marked, so the next run reads only households still to remind, however many campaigns there are
        await sql.mark_reminded(conn, row["org_id"], row["campaign_id"], row["unit_id"], now)
    return sent
