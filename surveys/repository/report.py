"""SQL for a survey campaign's report: every count is made in PostgreSQL; the arithmetic is surveys/scoring.py's.
Every statement is scoped by org_id ($1 everywhere).

One snapshot: `report_figures` answers the campaign, the property's previous campaign and every count of both in
ONE statement, so the report is consistent whatever transaction the caller is in (the request's READ COMMITTED
one, which has already run the access checks and so can no longer be made REPEATABLE READ): a response submitted
meanwhile is in all of the counts or in none. The single-purpose functions below count the same things alone
(NPS with a plain GROUP BY); a caller that combines several of them must run them in one REPEATABLE READ READ
ONLY transaction.

The fragments take the campaign as an SQL expression: `$2` when run alone, the outer row's id in `report_figures`.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg


def _campaign(campaign: str) -> str:
    return f"""SELECT c.id, c.property_id, c.opens_at, c.closes_at, c.anonymous, c.flag_below::float8 AS flag_below,
           c.template_version_id, tv.dimensions, tv.questions
      FROM survey_campaigns c
      JOIN survey_template_versions tv ON tv.org_id = c.org_id AND tv.id = c.template_version_id
     WHERE c.org_id = $1 AND c.id = {campaign}"""


def _previous(property_id: str, before: str) -> str:
    """The property's latest campaign that opened before `before` (survey_campaigns_property, one index probe)."""
    return f"""SELECT id FROM survey_campaigns
     WHERE org_id = $1 AND property_id = {property_id} AND opens_at < {before}
     ORDER BY opens_at DESC, id DESC
     LIMIT 1"""


def _likert(campaign: str) -> str:
    # an index-only scan of survey_likert_counts, already in GROUP BY order: no sort, no hash
    return f"""SELECT question_key, dimension, value, count(*) AS count
      FROM survey_likert
     WHERE org_id = $1 AND campaign_id = {campaign}
     GROUP BY question_key, dimension, value"""


def _arrays(query: str, columns: str) -> str:
    """The rows of `query` as one jsonb array of arrays of `columns` ('[]' when none)."""
    return f"SELECT coalesce(jsonb_agg(jsonb_build_array({columns})), '[]') FROM ({query}) x"


def _likert_json(campaign: str) -> str:
    return _arrays(_likert(campaign), "question_key, dimension, value, count")


def _households(campaign: str) -> str:
    """(dimension, total, n, households): households by the sum and number of their Likert answers to each
    dimension, and to all of them (dimension NULL), from what each response's answers add up to
    (survey_household_likert, written with them): an index-only scan already in GROUP BY order."""
    return f"""SELECT dimension, total, answers AS n, count(*) AS households
      FROM survey_household_likert
     WHERE org_id = $1 AND campaign_id = {campaign}
     GROUP BY dimension, total, answers"""


def _households_json(campaign: str) -> str:
    return _arrays(_households(campaign), "dimension, total, n, households")


def _buildings(campaign: str) -> str:
    # counted down to one row per building first, then named; a building is never deleted while it has units
    # (and so invitations), but a report must not lose invitations if one were
    return f"""SELECT i.building_id, coalesce(b.name, i.building_id) AS building_name, i.invited, i.responded
      FROM (SELECT building_id, count(*) AS invited, count(responded_at) AS responded
              FROM survey_invitations
             WHERE org_id = $1 AND campaign_id = {campaign}
             GROUP BY building_id) i
      LEFT JOIN buildings b ON b.org_id = $1 AND b.id = i.building_id"""


# the questions whose options are counted: those that have options, whatever their type (surveys.models.scale_of
# says which types are answered with option keys)
CHOICE = "q.question ? 'options'"


def _choice_facts(questions: str, counted: str = CHOICE) -> str:
    """From a template version's questions (jsonb), the choice questions to count (`counted`, a condition on
    q.question): `others`, the keys of every other question, and their options in template order, option_keys[i]
    being an option of option_questions[i]. Arrays, not rows: the planner takes an unnest for a handful of rows,
    but a jsonb_array_elements (or any set-returning function over jsonb) for 100 or 1,000, and those estimates
    over 20,000 responses cost enough to switch JIT compilation on (about 1 s of compiling, measured)."""
    return f"""SELECT ARRAY(SELECT q.question ->> 'key' FROM jsonb_array_elements({questions}) AS q (question)
                   WHERE NOT ({counted})) AS others,
           o.option_questions, o.option_keys
      FROM (SELECT array_agg(q.question ->> 'key' ORDER BY q.n, o.m) AS option_questions,
                   array_agg(o.option ->> 'key' ORDER BY q.n, o.m) AS option_keys
              FROM jsonb_array_elements({questions}) WITH ORDINALITY AS q (question, n)
             CROSS JOIN LATERAL jsonb_array_elements(q.question -> 'options') WITH ORDINALITY AS o (option, m)
             WHERE {counted}) o"""


def _groups(campaign: str, others: str) -> str:
    """The campaign's responses grouped by their NPS answer, their answers to the choice questions (the
    answers less `others`) and their channel: one pass over the responses, down to a few thousand groups (NPS
    values times the combinations chosen times the channels used), from which the NPS, choice and channel
    counts are summed (n)."""
    return f"""SELECT nps, answers - {others} AS chosen, channel, count(*) AS n
      FROM survey_responses
     WHERE org_id = $1 AND campaign_id = {campaign}
     GROUP BY 1, 2, 3"""


def _nps(groups: str) -> str:
    """Responses by NPS answer, NULL (not answered) included: the counts add up to the responses."""
    return f"SELECT nps, sum(n)::int8 AS count FROM {groups} AS g GROUP BY nps"


def _channels(groups: str) -> str:
    """Responses by channel (link, app, phone, visit); a channel nobody used is absent."""
    return f"SELECT channel, sum(n)::int8 AS count FROM {groups} AS g GROUP BY channel"


def _choices(groups: str, option_questions: str, option_keys: str) -> str:
    """(question, option, count) for every option, 0 included. A single choice is stored as a string and a
    multiple one as a list of strings; jsonb's `?` finds a string as either."""
    # the groups without NPS first: a few hundred combinations to test each option against, not thousands
    return f"""SELECT p.question, p.option,
           coalesce(sum(g.n) FILTER (WHERE (g.chosen -> p.question) ? p.option), 0)::int8 AS count
      FROM unnest({option_questions}, {option_keys}) AS p (question, option)
      LEFT JOIN (SELECT chosen, sum(n) AS n FROM {groups} AS g GROUP BY chosen) AS g ON true
     GROUP BY p.question, p.option"""


CAMPAIGN_SQL = _campaign("$2")
PREVIOUS_SQL = _previous("$2", "$3")
LIKERT_SQL = _likert("$2")
BUILDINGS_SQL = _buildings("$2") + "\n     ORDER BY building_name, building_id"
NPS_SQL = "SELECT nps, count(*) AS count FROM survey_responses WHERE org_id = $1 AND campaign_id = $2 GROUP BY nps"
CHOICES_SQL = f"""
WITH t AS (
    {_choice_facts(f"(SELECT questions FROM ({_campaign('$2')}) c)", f"{CHOICE} AND q.question ->> 'key' = ANY($3)")}
), g AS (
    {_groups("$2", "(SELECT others FROM t)")}
)
{_choices("g", "(SELECT option_questions FROM t)", "(SELECT option_keys FROM t)")}"""

# A closed campaign's Likert, NPS and household counts, kept (survey_final_counts); nothing when they are kept
# already.
KEEP_SQL = f"""
INSERT INTO survey_final_counts (org_id, campaign_id, likert, nps, households)
SELECT $1, $2, ({_likert_json("$2")}),
       (SELECT coalesce(jsonb_agg(jsonb_build_array(nps, count)), '[]') FROM ({NPS_SQL}) x),
       ({_households_json("$2")})
ON CONFLICT (org_id, campaign_id) DO NOTHING"""
HOUSEHOLDS_SQL = _households("$2")

# The campaign (previous = false) and the property's previous campaign (previous = true, when there is one), each
# with its template version and its counts as jsonb: likert [[question_key, dimension, value, count]], households
# [[dimension or null, total, n, households]], nps [[value or null, count]], buildings [{building_id,
# building_name, invited, responded}] by name, choices {question_key: {option: count}}, channels {channel: count}.
# The previous campaign's row counts only what the changes are computed from, Likert (and household) and NPS
# answers: its buildings, choices and channels are NULL, and its responses are grouped by NPS (and channel) alone
# (a NULL `others` makes `answers - others` NULL without reading the answers), which saves about a third of the
# time.
FIGURES_SQL = f"""
WITH this AS (
    {_campaign("$2")}
), campaigns AS (
    SELECT false AS previous, this.* FROM this
     UNION ALL
    SELECT true, p.*
      FROM this CROSS JOIN LATERAL ({_campaign(f"({_previous('this.property_id', 'this.opens_at')})")}) p
)
SELECT cp.*,
       coalesce(kept.likert, ({_likert_json("cp.id")})) AS likert,
       coalesce(kept.households, ({_households_json("cp.id")})) AS households,
       coalesce(kept.nps, r.nps) AS nps,
       CASE WHEN NOT cp.previous THEN
           (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY building_name, building_id), '[]')
              FROM ({_buildings("cp.id")}) x)
       END AS buildings,
       r.choices, r.channels
  FROM campaigns cp
  -- a closed campaign's counts, once the workers have kept them: read for the previous campaign, not counted
  LEFT JOIN survey_final_counts kept ON kept.org_id = $1 AND kept.campaign_id = cp.id AND cp.previous
 CROSS JOIN LATERAL ({_choice_facts("cp.questions")}) t
 CROSS JOIN LATERAL (
     WITH g AS MATERIALIZED ({_groups("cp.id", "CASE WHEN NOT cp.previous THEN t.others END")})
     SELECT CASE WHEN kept.nps IS NULL THEN
                (SELECT coalesce(jsonb_agg(jsonb_build_array(nps, count)), '[]') FROM ({_nps("g")}) x)
            END AS nps,
            CASE WHEN NOT cp.previous THEN
                (SELECT coalesce(jsonb_object_agg(question, options), '{{}}')
                   FROM (SELECT question, jsonb_object_agg(option, count) AS options
                           FROM ({_choices("g", "t.option_questions", "t.option_keys")}) x
                          GROUP BY question) y)
            END AS choices,
            CASE WHEN NOT cp.previous THEN
                (SELECT coalesce(jsonb_object_agg(channel, count), '{{}}') FROM ({_channels("g")}) x)
            END AS channels
 ) r
 ORDER BY cp.previous"""


async def report_figures(conn: asyncpg.Connection, org_id: str, campaign_id: str) -> list[asyncpg.Record]:
    """The campaign and its previous one (column `previous`), each with what `campaign_row` answers and its
    counts (likert, nps, buildings, choices: jsonb, shaped as FIGURES_SQL says; the previous campaign's
    buildings and choices NULL), in one statement. No rows: no such campaign in the org."""
    return await conn.fetch(FIGURES_SQL, org_id, campaign_id)


async def campaigns_to_keep(conn: asyncpg.Connection, closed_before: datetime, limit: int) -> list[asyncpg.Record]:
    """Across orgs: (org_id, id) of the campaigns closed before `closed_before` whose counts are not kept yet."""
    return await conn.fetch(
        """SELECT c.org_id, c.id FROM survey_campaigns c
           WHERE c.closes_at < $1
             AND NOT EXISTS (SELECT 1 FROM survey_final_counts f WHERE f.org_id = c.org_id AND f.campaign_id = c.id)
           ORDER BY c.closes_at, c.org_id, c.id LIMIT $2""",
        closed_before,
        limit,
    )


async def keep_counts(conn: asyncpg.Connection, org_id: str, campaign_id: str) -> None:
    await conn.execute(KEEP_SQL, org_id, campaign_id)


async def campaign_row(conn: asyncpg.Connection, org_id: str, campaign_id: str) -> asyncpg.Record | None:
    """id, property_id, opens_at, closes_at, anonymous, flag_below (float), template_version_id, and the template
    version's dimensions and questions (jsonb)."""
    return await conn.fetchrow(CAMPAIGN_SQL, org_id, campaign_id)


async def previous_campaign(conn: asyncpg.Connection, org_id: str, property_id: str, before: datetime) -> str | None:
    """The id of the property's latest campaign that opened before `before` (a campaign's opens_at)."""
    campaign_id: str | None = await conn.fetchval(PREVIOUS_SQL, org_id, property_id, before)
    return campaign_id


async def likert_counts(conn: asyncpg.Connection, org_id: str, campaign_id: str) -> list[asyncpg.Record]:
    """(question_key, dimension, value, count) rows, ordered by question key, dimension and value."""
    return await conn.fetch(LIKERT_SQL + "\n     ORDER BY question_key, dimension, value", org_id, campaign_id)


async def household_counts(conn: asyncpg.Connection, org_id: str, campaign_id: str) -> list[asyncpg.Record]:
    """(dimension, total, n, households) rows: households by the sum and number of their Likert answers to each
    dimension (dimension NULL: to all of them)."""
    return await conn.fetch(HOUSEHOLDS_SQL, org_id, campaign_id)


async def nps_counts(conn: asyncpg.Connection, org_id: str, campaign_id: str) -> dict[int, int]:
    """NPS answer (0-10) -> responses that gave it; values nobody gave are absent."""
    rows = await conn.fetch(NPS_SQL, org_id, campaign_id)
    return {row["nps"]: row["count"] for row in rows if row["nps"] is not None}


async def building_counts(conn: asyncpg.Connection, org_id: str, campaign_id: str) -> list[asyncpg.Record]:
    """(building_id, building_name, invited, responded) per building with invitations, by name."""
    return await conn.fetch(BUILDINGS_SQL, org_id, campaign_id)


async def choice_counts(
    conn: asyncpg.Connection, org_id: str, campaign_id: str, single_keys: list[str], multiple_keys: list[str]
) -> dict[str, dict[str, int]]:
    """Question key -> option key -> responses that chose it, for every option the campaign's template version
    gives those questions (0 included). A key that is not a choice question of the template counts nothing."""
    rows = await conn.fetch(CHOICES_SQL, org_id, campaign_id, [*single_keys, *multiple_keys])
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["question"], {})[row["option"]] = row["count"]
    return counts
