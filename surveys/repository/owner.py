"""SQL for what an owner reads of the surveys on their own pages: the same rows sync sends their phone (an
invitation of one of their units; a campaign, its results and actions once published, of their properties).
Every statement is scoped by org_id."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def open_invitations(
    conn: asyncpg.Connection, org_id: str, unit_ids: list[str], now: datetime
) -> list[asyncpg.Record]:
    """The units' invitations to campaigns open at `now`, soonest to close first."""
    return await conn.fetch(
        """SELECT c.id AS campaign_id, i.unit_id, c.name_zh, c.name_en, c.closes_at, c.anonymous, i.responded_at,
                  i.link_generation
           FROM survey_invitations i JOIN survey_campaigns c ON c.org_id = i.org_id AND c.id = i.campaign_id
           WHERE i.org_id = $1 AND i.unit_id = ANY($2::text[]) AND c.opens_at <= $3 AND $3 < c.closes_at
           ORDER BY c.closes_at, c.id, i.unit_id""",
        org_id,
        unit_ids,
        now,
    )


async def published_campaigns(conn: asyncpg.Connection, org_id: str, property_ids: list[str]) -> list[asyncpg.Record]:
    """The properties' campaigns whose results are published, latest first, with their property's name and zone."""
    return await conn.fetch(
        """SELECT c.id, c.property_id, p.name AS property_name, p.timezone, c.results
           FROM survey_campaigns c JOIN properties p ON p.org_id = c.org_id AND p.id = c.property_id
           WHERE c.org_id = $1 AND c.property_id = ANY($2::text[]) AND c.published_at IS NOT NULL
           ORDER BY c.published_at DESC, c.id""",
        org_id,
        property_ids,
    )


async def published_actions(conn: asyncpg.Connection, org_id: str, property_ids: list[str]) -> list[asyncpg.Record]:
    """The improvement actions published to the properties' owners, as they stand now."""
    return await conn.fetch(
        """SELECT id, campaign_id, dimension, kind, title_zh, title_en, due_at, status, done_at
           FROM survey_actions WHERE org_id = $1 AND published_property_id = ANY($2::text[])
           ORDER BY due_at, created_at, id""",
        org_id,
        property_ids,
    )
