"""SQL for answers pushed from owners' phones (survey_submissions). Every statement is scoped by org_id."""

from __future__ import annotations

import asyncpg


async def submissions(conn: asyncpg.Connection, org_id: str, ids: list[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, campaign_id, unit_id, submitted_by, answers::text AS answers FROM survey_submissions
           WHERE org_id = $1 AND id = ANY($2::text[]) ORDER BY id""",
        org_id,
        ids,
    )


async def accept(conn: asyncpg.Connection, org_id: str, submission_id: str) -> None:
    """Taken. An anonymous campaign's answers are not kept beside the unit that gave them."""
    await conn.execute(
        """UPDATE survey_submissions s
           SET status = 'accepted', refusal = NULL, refusal_en = NULL, refusal_zh = NULL,
               answers = CASE WHEN c.anonymous THEN NULL ELSE s.answers END
           FROM survey_campaigns c
           WHERE s.org_id = $1 AND s.id = $2 AND c.org_id = s.org_id AND c.id = s.campaign_id""",
        org_id,
        submission_id,
    )


async def refuse(conn: asyncpg.Connection, org_id: str, submission_id: str, code: str, en: str, zh: str) -> None:
    await conn.execute(
        """UPDATE survey_submissions SET status = 'refused', refusal = $3, refusal_en = $4, refusal_zh = $5
           WHERE org_id = $1 AND id = $2""",
        org_id,
        submission_id,
        code,
        en,
        zh,
    )
