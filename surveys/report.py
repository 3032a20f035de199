"""The report of an owner satisfaction survey campaign: the counts from SQL (surveys/repository/report.py, one
statement, so one snapshot in any transaction), the figures from surveys/scoring.py. No access checks: the caller
makes them."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import msgspec

from core.errors import NotFound
from surveys import scoring
from surveys.models import Dimension, Question, scale_of
from surveys.repository import report as sql

# No answer is taken once a campaign has closed; this long after, none that was under way then can still be
# committing, and its counts are final.
SETTLED = timedelta(minutes=10)


async def campaign_report(conn: asyncpg.Connection, org_id: str, campaign_id: str) -> scoring.Report:
    """The campaign's scores, rates and counts, with the changes since the property's previous campaign. The
    previous campaign's report is scored the same way, without going further back, from its Likert, household and
    NPS counts: all the changes read. Its buildings and choices, which nothing reads, are not counted (counting
    them would make the report about a third slower), and its Likert and NPS counts are read from those the
    workers keep once it has closed (`keep_final_counts`), when they have."""
    rows = await sql.report_figures(conn, org_id, campaign_id)
    current = next((row for row in rows if not row["previous"]), None)
    if current is None:
        raise NotFound(f"survey campaign {campaign_id} not found", entity="survey_campaign", id=campaign_id)
    before = next((scoring.score(_inputs(row)) for row in rows if row["previous"]), None)
    return scoring.score(_inputs(current, before))


def _inputs(row: asyncpg.Record, previous: scoring.Report | None = None) -> scoring.Inputs:
    questions = msgspec.convert(row["questions"], list[Question])
    dimensions = msgspec.convert(row["dimensions"], list[Dimension])
    position = {question.key: i for i, question in enumerate(questions)}
    # scoring lists questions in the order it first sees them: make that the template's
    likert = sorted(
        (
            scoring.LikertCount(question_key=key, dimension=dimension, value=value, count=count)
            for key, dimension, value, count in row["likert"]
        ),
        key=lambda c: (position.get(c.question_key, len(position)), c.question_key, c.value),
    )
    counted: dict[str, dict[str, int]] | None = row["choices"]  # None: a previous campaign's, not counted
    choices = {
        # every option in template order (jsonb keeps no order)
        question.key: {key: counted.get(question.key, {}).get(key, 0) for key in keys}
        for question in questions
        if counted is not None and isinstance(keys := scale_of(question), list)  # answered with option keys
    }
    return scoring.Inputs(
        likert=likert,
        households=[
            scoring.HouseholdCount(dimension=dimension, total=total, answers=n, households=households)
            for dimension, total, n, households in row["households"]
        ],
        nps={value: count for value, count in row["nps"] if value is not None},
        buildings=msgspec.convert(row["buildings"] or [], list[scoring.BuildingCount]),
        choices=choices,
        responses=sum(count for _, count in row["nps"]),
        dimensions=[(d.key, d.name_zh, d.name_en) for d in dimensions],
        flag_below=row["flag_below"],
        previous=previous,
        channels=row["channels"] or {},
    )


async def keep_final_counts(conn: asyncpg.Connection, now: datetime, *, limit: int = 100) -> list[str]:
    """Keep the Likert, NPS and household counts of up to `limit` campaigns that closed more than SETTLED ago
    (across orgs); returns their ids."""
    kept = []
    for row in await sql.campaigns_to_keep(conn, now - SETTLED, limit):
        await sql.keep_counts(conn, row["org_id"], row["id"])
        kept.append(row["id"])
    return kept
