"""SQL for exporting a survey campaign's responses. Every statement is scoped by org_id ($1 everywhere).

The responses are read with a server-side cursor, a batch at a time, so a campaign of 20,000 households is never
held in memory whole; a cursor lives only inside a transaction, which the caller opens (REPEATABLE READ READ
ONLY, so the responses and the report's counts are one snapshot).

An anonymous campaign's rows name no building and no unit, whatever the columns hold: the SQL says NULL there, so
no shaping mistake can let them out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg

CAMPAIGN_SQL = """
    SELECT c.id, c.name_zh, c.name_en, c.anonymous, p.timezone, tv.questions
      FROM survey_campaigns c
      JOIN properties p ON p.org_id = c.org_id AND p.id = c.property_id
      JOIN survey_template_versions tv ON tv.org_id = c.org_id AND tv.id = c.template_version_id
     WHERE c.org_id = $1 AND c.id = $2"""

# submission order: a response keeps its first submitted_at when it is edited, so its number never moves. An
# anonymous campaign's responses are ordered by day only, and by their random ids within it, so neither a row's
# number nor its time can be matched against when an owner was seen answering (a push in the audit trail).
RESPONSES_SQL = """
    SELECT CASE WHEN c.anonymous THEN NULL ELSE b.name END AS building_name,
           CASE WHEN c.anonymous THEN NULL ELSE u.id END AS unit_id,
           CASE WHEN c.anonymous THEN NULL ELSE u.number END AS unit_number,
           r.channel, r.submitted_at, r.answers
      FROM survey_responses r
      JOIN survey_campaigns c ON c.org_id = r.org_id AND c.id = r.campaign_id
      JOIN properties p ON p.org_id = c.org_id AND p.id = c.property_id
      LEFT JOIN buildings b ON b.org_id = r.org_id AND b.id = r.building_id AND NOT c.anonymous
      LEFT JOIN units u ON u.org_id = r.org_id AND u.id = r.unit_id AND NOT c.anonymous
     WHERE r.org_id = $1 AND r.campaign_id = $2
     ORDER BY CASE WHEN c.anonymous THEN (r.submitted_at AT TIME ZONE p.timezone)::date END,
              CASE WHEN c.anonymous THEN r.id END,
              r.submitted_at, r.id"""


async def export_campaign(conn: asyncpg.Connection, org_id: str, campaign_id: str) -> asyncpg.Record | None:
    """id, name_zh, name_en, anonymous, the property's timezone and the template version's questions (jsonb)."""
    return await conn.fetchrow(CAMPAIGN_SQL, org_id, campaign_id)


async def response_batches(
    conn: asyncpg.Connection, org_id: str, campaign_id: str, size: int = 500
) -> AsyncIterator[list[asyncpg.Record]]:
    """The campaign's responses in submission order, `size` at a time: building_name, unit_id, unit_number (NULL
    for an anonymous campaign), channel, submitted_at, answers (jsonb). Must run inside a transaction."""
    cursor = await conn.cursor(RESPONSES_SQL, org_id, campaign_id)
    while batch := await cursor.fetch(size):
        yield batch
