"""SQL for survey campaigns, their invitations and responses. Every statement is scoped by org_id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from core.db import insert_row

CAMPAIGN = """
    SELECT c.id, c.property_id, c.template_version_id, c.name_zh, c.name_en, c.opens_at, c.closes_at,
           c.anonymous, c.flag_below::float8 AS flag_below, c.published_at, c.created_at,
           (SELECT count(*) FROM survey_invitations i WHERE i.org_id = c.org_id AND i.campaign_id = c.id) AS invited,
           (SELECT count(*) FROM survey_invitations i
             WHERE i.org_id = c.org_id AND i.campaign_id = c.id AND i.responded_at IS NOT NULL) AS responded
    FROM survey_campaigns c"""


async def insert_campaign(conn: asyncpg.Connection, org_id: str, values: dict[str, Any]) -> None:
    await insert_row(conn, "survey_campaigns", {"org_id": org_id, **values})


async def invite_units(
    conn: asyncpg.Connection, org_id: str, campaign_id: str, property_id: str, tokens: dict[str, str]
) -> int:
    """An invitation for each unit of the property; `tokens`: unit id -> the sha256 of its link's token."""
    status = await conn.execute(
        """INSERT INTO survey_invitations (org_id, campaign_id, unit_id, building_id, token_sha256)
           SELECT u.org_id, $2, u.id, u.building_id, t.sha
           FROM units u JOIN unnest($4::text[], $5::text[]) AS t(unit_id, sha) ON t.unit_id = u.id
           WHERE u.org_id = $1 AND u.property_id = $3
           ON CONFLICT (org_id, campaign_id, unit_id) DO NOTHING""",
        org_id,
        campaign_id,
        property_id,
        list(tokens),
        list(tokens.values()),
    )
    return int(status.split()[-1])


async def uninvited_units(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Across orgs: units of the property of a campaign still to close that have no invitation to it (added to
    the property after the campaign was made)."""
    return await conn.fetch(
        """SELECT c.org_id, c.id AS campaign_id, c.property_id, u.id AS unit_id
           FROM survey_campaigns c
           JOIN units u ON u.org_id = c.org_id AND u.property_id = c.property_id
           WHERE c.closes_at > $1
             AND NOT EXISTS (SELECT 1 FROM survey_invitations i
                             WHERE i.org_id = c.org_id AND i.campaign_id = c.id AND i.unit_id = u.id)
           ORDER BY c.org_id, c.id, u.id LIMIT $2""",
        now,
        limit,
    )


async def unit_ids(conn: asyncpg.Connection, org_id: str, property_id: str) -> list[str]:
    rows = await conn.fetch("SELECT id FROM units WHERE org_id = $1 AND property_id = $2", org_id, property_id)
    return [r["id"] for r in rows]


async def campaign(conn: asyncpg.Connection, org_id: str, campaign_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"{CAMPAIGN} WHERE c.org_id = $1 AND c.id = $2", org_id, campaign_id)


async def property_campaigns(
    conn: asyncpg.Connection, org_id: str, property_id: str, after: str | None, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""{CAMPAIGN} WHERE c.org_id = $1 AND c.property_id = $2 AND ($3::text IS NULL OR c.id > $3)
            ORDER BY c.id LIMIT $4""",
        org_id,
        property_id,
        after,
        limit,
    )


async def latest_closed(
    conn: asyncpg.Connection, org_id: str, property_id: str, before: datetime
) -> asyncpg.Record | None:
    """The property's campaign that closed last, by `before`."""
    return await conn.fetchrow(
        f"""{CAMPAIGN} WHERE c.org_id = $1 AND c.property_id = $2 AND c.closes_at <= $3
            ORDER BY c.closes_at DESC, c.id DESC LIMIT 1""",
        org_id,
        property_id,
        before,
    )


async def invitations(conn: asyncpg.Connection, org_id: str, campaign_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT unit_id, building_id, responded_at, link_generation FROM survey_invitations
           WHERE org_id = $1 AND campaign_id = $2 ORDER BY building_id, unit_id""",
        org_id,
        campaign_id,
    )


async def slip_rows(
    conn: asyncpg.Connection, org_id: str, campaign_id: str, building_id: str | None, unanswered: bool
) -> list[asyncpg.Record]:
    """The invited households to print a slip for, with their building's name and unit's number (in no order:
    the caller sorts them as people read unit numbers); only `building_id`'s, only those yet to answer."""
    return await conn.fetch(
        """SELECT i.unit_id, i.building_id, i.link_generation, u.number AS unit_number, b.name AS building_name
           FROM survey_invitations i
           JOIN units u ON u.org_id = i.org_id AND u.id = i.unit_id
           JOIN buildings b ON b.org_id = i.org_id AND b.id = i.building_id
           WHERE i.org_id = $1 AND i.campaign_id = $2 AND ($3::text IS NULL OR i.building_id = $3)
             AND (NOT $4 OR i.responded_at IS NULL)""",
        org_id,
        campaign_id,
        building_id,
        unanswered,
    )


# --- answering ------------------------------------------------------------------------------------------


INVITATION = """
    SELECT i.org_id, i.campaign_id, i.unit_id, i.building_id, i.responded_at, i.token_sha256, i.link_generation,
           c.property_id
    FROM survey_invitations i JOIN survey_campaigns c ON c.org_id = i.org_id AND c.id = i.campaign_id"""


async def invitation_by_token(conn: asyncpg.Connection, token_sha256: str, *, lock: bool) -> asyncpg.Record | None:
    """The invitation a link's token opens, across orgs (the token is the whole credential); `lock` holds it for
    the answer being written."""
    return await conn.fetchrow(
        f"{INVITATION} WHERE i.token_sha256 = $1 {'FOR UPDATE OF i' if lock else ''}", token_sha256
    )


async def invitation_of_unit(
    conn: asyncpg.Connection, org_id: str, campaign_id: str, unit_id: str, *, lock: bool
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""{INVITATION} WHERE i.org_id = $1 AND i.campaign_id = $2 AND i.unit_id = $3
            {"FOR UPDATE OF i" if lock else ""}""",
        org_id,
        campaign_id,
        unit_id,
    )


# a household's invitation, its campaign, where it is and (unless the campaign is anonymous) its response
HOUSEHOLD_VIEW = """
    SELECT i.org_id, i.campaign_id, i.unit_id, i.building_id, i.responded_at,
           c.template_version_id, c.name_zh, c.name_en, c.opens_at, c.closes_at, c.anonymous,
           p.name AS property_name, p.timezone, b.name AS building_name, u.number AS unit_number,
           r.answers, r.updated_at AS answers_updated_at, r.channel, r.entered_by, e.name AS entered_by_name
      FROM survey_invitations i
      JOIN survey_campaigns c ON c.org_id = i.org_id AND c.id = i.campaign_id
      JOIN units u ON u.org_id = i.org_id AND u.id = i.unit_id
      JOIN buildings b ON b.org_id = u.org_id AND b.id = u.building_id
      JOIN properties p ON p.org_id = c.org_id AND p.id = c.property_id
      LEFT JOIN survey_responses r
        ON NOT c.anonymous AND r.org_id = i.org_id AND r.campaign_id = i.campaign_id AND r.unit_id = i.unit_id
      LEFT JOIN users e ON e.org_id = r.org_id AND e.id = r.entered_by"""


async def link_view(conn: asyncpg.Connection, token_sha256: str) -> asyncpg.Record | None:
    """Everything the page or JSON of a household's link shows, in one statement: the invitation, its campaign,
    where the household is (property name and zone, building, unit) and, unless the campaign is anonymous, its
    response."""
    return await conn.fetchrow(f"{HOUSEHOLD_VIEW} WHERE i.token_sha256 = $1", token_sha256)


async def household_view(
    conn: asyncpg.Connection, org_id: str, campaign_id: str, unit_id: str
) -> asyncpg.Record | None:
    """What link_view answers, for a campaign's household, with how its response came (channel, who entered it)."""
    return await conn.fetchrow(
        f"{HOUSEHOLD_VIEW} WHERE i.org_id = $1 AND i.campaign_id = $2 AND i.unit_id = $3", org_id, campaign_id, unit_id
    )


async def building_households(
    conn: asyncpg.Connection, org_id: str, campaign_id: str, building_id: str
) -> list[asyncpg.Record]:
    """A building's invited households (in no order: the caller sorts unit numbers as people read them): unit_id,
    building_id, unit_number, whether it answered, and, unless the campaign is anonymous, when, the response's
    channel and the name of whoever entered it (an anonymous campaign's export gives each response's day: a
    household's time of answering beside it could name the household of a day's only response)."""
    return await conn.fetch(
        """SELECT i.unit_id, i.building_id, u.number AS unit_number, i.responded_at IS NOT NULL AS answered,
                  CASE WHEN NOT c.anonymous THEN i.responded_at END AS responded_at,
                  r.channel, e.name AS entered_by_name
             FROM survey_invitations i
             JOIN survey_campaigns c ON c.org_id = i.org_id AND c.id = i.campaign_id
             JOIN units u ON u.org_id = i.org_id AND u.id = i.unit_id
             LEFT JOIN survey_responses r
               ON NOT c.anonymous AND r.org_id = i.org_id AND r.campaign_id = i.campaign_id AND r.unit_id = i.unit_id
             LEFT JOIN users e ON e.org_id = r.org_id AND e.id = r.entered_by
            WHERE i.org_id = $1 AND i.campaign_id = $2 AND i.building_id = $3""",
        org_id,
        campaign_id,
        building_id,
    )


async def recent_campaigns(conn: asyncpg.Connection, org_id: str, property_id: str, limit: int) -> list[asyncpg.Record]:
    """The property's campaigns, the latest to open first."""
    return await conn.fetch(
        f"{CAMPAIGN} WHERE c.org_id = $1 AND c.property_id = $2 ORDER BY c.opens_at DESC, c.id DESC LIMIT $3",
        org_id,
        property_id,
        limit,
    )


async def replace_link(
    conn: asyncpg.Connection,
    org_id: str,
    campaign_id: str,
    unit_id: str,
    *,
    revoked: tuple[str, int],
    current: tuple[str, int],
    at: datetime,
    by: str,
) -> None:
    """The invitation's link becomes `current` (its token's sha256, its generation); `revoked`, the one it had,
    is kept among the revoked links."""
    await conn.execute(
        """INSERT INTO survey_revoked_links
                  (token_sha256, org_id, campaign_id, unit_id, generation, revoked_at, revoked_by)
           VALUES ($4, $1, $2, $3, $5, $6, $7)""",
        org_id,
        campaign_id,
        unit_id,
        *revoked,
        at,
        by,
    )
    await conn.execute(
        """UPDATE survey_invitations SET token_sha256 = $4, link_generation = $5
           WHERE org_id = $1 AND campaign_id = $2 AND unit_id = $3""",
        org_id,
        campaign_id,
        unit_id,
        *current,
    )


async def is_revoked(conn: asyncpg.Connection, token_sha256: str) -> bool:
    """Whether a token that opens nothing was a household's link, revoked (across orgs, like the live ones)."""
    return bool(await conn.fetchval("SELECT 1 FROM survey_revoked_links WHERE token_sha256 = $1", token_sha256))


async def response_of_unit(
    conn: asyncpg.Connection, org_id: str, campaign_id: str, unit_id: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT id, answers, updated_at, channel, entered_by FROM survey_responses
           WHERE org_id = $1 AND campaign_id = $2 AND unit_id = $3""",
        org_id,
        campaign_id,
        unit_id,
    )


async def insert_response(conn: asyncpg.Connection, org_id: str, values: dict[str, Any]) -> None:
    await insert_row(conn, "survey_responses", {"org_id": org_id, **values})


async def update_response(
    conn: asyncpg.Connection,
    org_id: str,
    response_id: str,
    answers: dict[str, Any],
    nps: int | None,
    at: datetime,
    *,
    channel: str,
    entered_by: str | None,
) -> None:
    """New answers. The channel changes when staff enter them (`entered_by`) or when the household changes
    answers staff entered (then they are its own); a household changing its own keeps the channel it first used."""
    await conn.execute(
        """UPDATE survey_responses
              SET answers = $3, nps = $4, updated_at = $5, entered_by = $7,
                  channel = CASE WHEN $7::text IS NULL AND entered_by IS NULL THEN channel ELSE $6 END
            WHERE org_id = $1 AND id = $2""",
        org_id,
        response_id,
        answers,
        nps,
        at,
        channel,
        entered_by,
    )


async def replace_likert(
    conn: asyncpg.Connection, org_id: str, campaign_id: str, response_id: str, likert: list[tuple[str, str, int]]
) -> None:
    """The response's Likert answers, one row each, and the household's total and count of them per dimension and
    over all of them (dimension NULL), which the report counts households by."""
    await conn.execute("DELETE FROM survey_likert WHERE org_id = $1 AND response_id = $2", org_id, response_id)
    await conn.execute(
        "DELETE FROM survey_household_likert WHERE org_id = $1 AND response_id = $2", org_id, response_id
    )
    if likert:
        await conn.executemany(
            """INSERT INTO survey_likert (org_id, campaign_id, response_id, question_key, dimension, value)
               VALUES ($1, $2, $3, $4, $5, $6)""",
            [(org_id, campaign_id, response_id, key, dimension, value) for key, dimension, value in likert],
        )
        await conn.execute(
            """INSERT INTO survey_household_likert (org_id, campaign_id, response_id, dimension, total, answers)
               SELECT $1, $2, $3, dimension, sum(value), count(*)
                 FROM survey_likert WHERE org_id = $1 AND response_id = $3
                GROUP BY ROLLUP (dimension)""",
            org_id,
            campaign_id,
            response_id,
        )


async def mark_responded(conn: asyncpg.Connection, org_id: str, campaign_id: str, unit_id: str, at: datetime) -> None:
    await conn.execute(
        """UPDATE survey_invitations SET responded_at = $4
           WHERE org_id = $1 AND campaign_id = $2 AND unit_id = $3""",
        org_id,
        campaign_id,
        unit_id,
        at,
    )


async def unanswered_owners(
    conn: asyncpg.Connection, now: datetime, closing_before: datetime, limit: int
) -> list[asyncpg.Record]:
    """Across orgs: for every open campaign closing before `closing_before`, the active owners of each household
    that has neither answered nor been reminded (one row per campaign and unit, owners as an array)."""
    return await conn.fetch(
        """SELECT c.org_id, c.id AS campaign_id, c.property_id, c.name_zh, c.name_en, c.closes_at, i.unit_id,
                  array_agg(o.user_id ORDER BY o.user_id) AS owners
           FROM survey_campaigns c
           JOIN survey_invitations i ON i.org_id = c.org_id AND i.campaign_id = c.id
                AND i.responded_at IS NULL AND i.reminded_at IS NULL
           JOIN unit_owners o ON o.org_id = i.org_id AND o.unit_id = i.unit_id
           JOIN users u ON u.org_id = o.org_id AND u.id = o.user_id AND u.active
           WHERE c.opens_at <= $1 AND c.closes_at > $1 AND c.closes_at <= $2
           GROUP BY c.org_id, c.id, i.unit_id
           ORDER BY c.closes_at, c.id, i.unit_id LIMIT $3""",
        now,
        closing_before,
        limit,
    )


async def mark_reminded(conn: asyncpg.Connection, org_id: str, campaign_id: str, unit_id: str, at: datetime) -> None:
    await conn.execute(
        "UPDATE survey_invitations SET reminded_at = $4 WHERE org_id = $1 AND campaign_id = $2 AND unit_id = $3",
        org_id,
        campaign_id,
        unit_id,
        at,
    )
