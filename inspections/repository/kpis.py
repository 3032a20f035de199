"""SQL for the inspection KPIs: every figure is counted in PostgreSQL (FILTER, GROUPING SETS), one statement per
KPI family. Every statement is scoped by org_id.

Parameters, the same positions everywhere so the fragments below can name them: $1 org_id, $2 property_id (or
an array of them), $3 / $4 the period's UTC [start, end) (or arrays, one per property), $5 now (only in the
statements whose figures depend on it: rounds, orders, reviews, and the org's totals).

A rate is numerator / denominator as float8, NULL when the denominator is 0 (nullif). PostgreSQL computes an
aggregate written twice in one select list once, so a rate repeating its counts costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import asyncpg

from inspections.evidence.models import JUDGED_RECORDS


def _count(condition: str) -> str:
    return f"count(*) FILTER (WHERE {condition})"


def _sum(condition: str) -> str:
    """Over rows already counted into `n` (a first GROUP BY): the sum of those matching."""
    return f"coalesce(sum(n) FILTER (WHERE {condition}), 0)::int8"


def _figures(counts: dict[str, str], rates: dict[str, tuple[str, str]], total: Callable[[str], str] = _count) -> str:
    columns = [f"{total(cond)} AS {name}" for name, cond in counts.items()]
    columns += [
        f"{total(counts[num])}::float8 / nullif({total(counts[den])}, 0) AS {name}"
        for name, (num, den) in rates.items()
    ]
    return ",\n           ".join(columns)


# Rounds (alias r). Due: its outcome is known (completed or missed), or its window has closed.
ROUND_COUNTS = {
    "planned": "r.status = 'planned'",
    "in_progress": "r.status = 'in_progress'",
    "completed": "r.status = 'completed'",
    "missed": "r.status = 'missed'",
    "due": "r.status IN ('completed', 'missed') OR r.window_end < $5",
}
ROUND_FIGURES = _figures(ROUND_COUNTS, {"completion_rate": ("completed", "due")})

# Visits and results are many (a year of one property: 175,200 of each), so their statements count in two steps:
# a plain GROUP BY down to (who, where, what, timing or outcome) -> n, a few hundred rows, then the figures below
# summed from those. One hash lookup per row instead of several grouping sets times several FILTERed counts
# (measured by bench/kpi.py over a year: the results statement went from about 7x to about 4x the time of a plain
# count of its rows).

# Checkpoint visits of the period's rounds, by timing.
VISIT_COUNTS = {
    "early": "timing = 'early'",
    "on_time": "timing = 'on_time'",
    "late": "timing = 'late'",
    "missed": "timing = 'missed'",
    "timed": "timing IS NOT NULL",
}
VISIT_FIGURES = _figures(VISIT_COUNTS, {"on_time_rate": ("on_time", "timed")}, _sum)

# Checklist results by outcome; 'na' and unjudged (NULL) outcomes are outside the pass rate.
ITEM_COUNTS = {
    "passed": "outcome = 'pass'",
    "failed": "outcome = 'fail'",
    "na": "outcome = 'na'",
    "judged": "outcome IN ('pass', 'fail')",
}
ITEM_FIGURES = _figures(ITEM_COUNTS, {"pass_rate": ("passed", "judged")}, _sum)

# Rectification orders (alias o), by what happened to each in the period [start, end), as of `as_of` = the
# period's end, or now when the period has not ended (docs/inspections.md writes every formula out). Handed in:
# the latest submission stands (submitted or verified; one sent back since is not a fix). Lateness is judged
# against the first deadline (original_due_at), never one moved later on a send-back. What an order is in the
# period is worked out once a row (`_orders`), and the figures count those flags.
ORDER_COUNTS = {
    "opened": "o.opened",
    # every order whose first deadline fell in the period and has passed: done or not
    "due": "o.due",
    "due_on_time": "o.due AND o.handed_in AND o.by_deadline",
    "due_handed_in_late": "o.due AND o.handed_in AND NOT o.by_deadline",
    "due_not_handed_in": "o.due AND NOT o.handed_in",
    "due_extended": "o.due AND o.extended",
    "fixed": "o.fixed",
    "open": "o.open",
    "submitted": "o.opened AND o.ever_submitted",
    "reopened": "o.opened AND o.sent_back",
}


def _hours(interval: str) -> str:
    # date_part is float8; extract is numeric (PostgreSQL 14+), several times slower to add up
    return f"date_part('epoch', {interval}) / 3600"


def _with_hours(figures: str, hours: dict[str, tuple[str, str, str]]) -> str:
    """`figures` and, per name, (aggregate, hours column, counted) -> aggregate(hours) FILTER (counted)."""
    return figures + "".join(
        f",\n           {aggregate}({column}) FILTER (WHERE {counted}) AS {name}"
        for name, (aggregate, column, counted) in hours.items()
    )


def _order_figures() -> str:
    rates = {"on_time_rate": ("due_on_time", "due"), "reopen_rate": ("reopened", "submitted")}
    return _with_hours(
        _figures(ORDER_COUNTS, rates),
        {
            "mean_hours_to_fix": ("avg", "o.fix_hours", "o.fixed"),
            "mean_open_age_hours": ("avg", "o.age_hours", "o.open"),
            "max_open_age_hours": ("max", "o.age_hours", "o.open"),
        },
    )


def orders_in_period(property_id: str, start: str, end: str, as_of: str) -> str:
    """The orders any figure may count, each with what it is in the period (flags, and hours), aliased o: made
    before the period's end, and made, due or handed in during it, or not handed in.
    The orders not handed in are read whatever their age (rectification_orders_deadline holds only unverified
    ones); the others by an index's range per event (rectification_orders_property, _original_due, _status), so
    a month reads a month's orders and the backlog, not every order before it."""
    handed_in = "o.status IN ('submitted', 'verified')"
    columns = (
        "o.id, o.responsible_id, o.status, o.created_at, o.original_due_at, o.due_at, o.submitted_at, o.rejections"
    )
    return f"""(SELECT o.id, o.responsible_id,
                {_hours("o.submitted_at - o.created_at")} AS fix_hours,
                {_hours(f"{as_of} - o.created_at")} AS age_hours,
                o.created_at >= {start} AS opened,
                o.original_due_at >= {start} AND o.original_due_at < {as_of} AS due,
                {handed_in} AS handed_in,
                o.submitted_at <= o.original_due_at AS by_deadline,
                o.due_at > o.original_due_at AS extended,
                {handed_in} AND o.submitted_at >= {start} AND o.submitted_at < {end} AS fixed,
                -- not handed in at as_of (handed in by then and sent back after it counts as open too)
                o.created_at < {as_of} AND NOT ({handed_in} AND o.submitted_at <= {as_of}) AS open,
                o.submitted_at IS NOT NULL AS ever_submitted,
                o.rejections > 0 AS sent_back
           FROM (SELECT {columns} FROM rectification_orders o
                  WHERE o.org_id = $1 AND o.property_id = {property_id} AND o.created_at < {end}
                    AND o.status IN ('open', 'in_progress')
                 UNION ALL
                 SELECT {columns} FROM rectification_orders o
                  WHERE o.org_id = $1 AND o.property_id = {property_id} AND o.created_at < {end}
                    AND {handed_in}
                    AND (o.created_at >= {start} OR o.original_due_at >= {start} AND o.original_due_at < {end}
                         OR o.submitted_at >= {start})) o) o"""


# Supervisors' verdicts (alias v): each verdict of the period, verify or send back, and its delay from the
# submission it answered; and the submissions awaiting a verdict at as_of (from the verdicts given after it and
# from the orders still submitted), the totals' alone: nobody is named for a verdict not given yet.
REVIEW_COUNTS = {
    "reviews": "v.given",
    "rejected": "v.given AND v.verdict = 'rejected'",
    "verified": "v.given AND v.verdict = 'verified'",
    "awaiting_review": "v.awaiting",
}


def _review_figures() -> str:
    return _with_hours(
        _figures(REVIEW_COUNTS, {}),
        {
            "mean_review_hours": ("avg", "v.review_hours", "v.given"),
            "max_review_hours": ("max", "v.review_hours", "v.given"),
            # time to verify: the submission that stood to its verification
            "mean_hours_to_verify": ("avg", "v.review_hours", REVIEW_COUNTS["verified"]),
            "mean_hours_awaiting": ("avg", "v.waited_hours", "v.awaiting"),
            "max_hours_awaiting": ("max", "v.waited_hours", "v.awaiting"),
        },
    )


def _reviews(property_id: str, start: str, end: str, as_of: str) -> str:
    """The verdicts given in the period or after as_of, and the orders submitted now as verdicts still to come
    (reviewed_at NULL), each flagged `given` (in the period) and `awaiting` (at as_of), with its hours, aliased v.
    A verdict after the period names nobody: it only says what was awaiting at as_of."""
    return f"""(SELECT v.reviewed_by, v.verdict, v.reviewed_at < {end} AS given,
                {_hours("v.reviewed_at - v.submitted_at")} AS review_hours,
                {_hours(f"{as_of} - v.submitted_at")} AS waited_hours,
                v.submitted_at <= {as_of} AND (v.reviewed_at IS NULL OR v.reviewed_at > {as_of}) AS awaiting
           FROM (SELECT CASE WHEN r.reviewed_at < {end} THEN r.reviewed_by END AS reviewed_by, r.verdict,
                        r.submitted_at, r.reviewed_at
                   FROM rectification_reviews r
                  WHERE r.org_id = $1 AND r.property_id = {property_id} AND r.reviewed_at >= {start}
                    AND (r.reviewed_at < {end} OR r.submitted_at <= {as_of})
                 UNION ALL
                 SELECT NULL, NULL, o.submitted_at, NULL
                   FROM rectification_orders o
                  WHERE o.org_id = $1 AND o.property_id = {property_id} AND o.status = 'submitted'
                    AND o.submitted_at <= {as_of}) v) v"""


# Evidence (inspections/evidence/): the items a check may flag, photos received and checkpoints scanned in the
# period, by whose they are (the uploader, the scanner), and the open flags made in the period (level 'flag': a
# note and a dismissed flag do not count), by whose evidence they judge (aliased e: user_id, what, n).
EVIDENCE_COUNTS = {"items": "e.what = 'item'", "flags": "e.what = 'flag'"}
EVIDENCE_FIGURES = _figures(EVIDENCE_COUNTS, {"flag_rate": ("flags", "items")}, _sum)


# the photos the evidence checks judge (the inspections' work; migration 0022's trigger names the same tables)
JUDGED = ", ".join(f"'{table}'" for table in JUDGED_RECORDS)


def _evidence(property_id: str, start: str, end: str) -> str:
    return f"""(SELECT ph.uploaded_by AS user_id, 'item' AS what, count(*) AS n FROM photos ph
          WHERE ph.org_id = $1 AND ph.property_id = {property_id} AND ph.received_at >= {start}
            AND ph.received_at < {end} AND ph.record_table IN ({JUDGED})
          GROUP BY 1
         UNION ALL
         SELECT v.checked_by, 'item', count(*) FROM checkpoint_visits v
          WHERE v.org_id = $1 AND v.property_id = {property_id} AND v.scanned_at >= {start} AND v.scanned_at < {end}
          GROUP BY 1
         UNION ALL
         SELECT f.staff_id, 'flag', count(*) FROM evidence_flags f
          WHERE f.org_id = $1 AND f.property_id = {property_id} AND f.created_at >= {start} AND f.created_at < {end}
            AND f.level = 'flag' AND f.status = 'open'
          GROUP BY 1) e"""


def rounds_in_period(property_id: str, start: str, end: str) -> str:
    """A round is in the period by its window's start, or when it has no window, by when it was made. Spelled as
    an OR (not coalesce) so both halves can use rounds_property_window (org_id, property_id, window_start)."""
    return f"""r.org_id = $1 AND r.property_id = {property_id}
       AND (r.window_start >= {start} AND r.window_start < {end}
            OR r.window_start IS NULL AND r.created_at >= {start} AND r.created_at < {end})"""


def _visits_of_rounds(property_id: str, start: str, end: str) -> str:
    """(r.assignee_id, t.timing, t.n): a round's visits by timing, from the counts the server keeps on the round
    (inspections.push_settlement recounts them whenever a round's visits change), not from the visits themselves."""
    return f"""rounds r
     CROSS JOIN LATERAL (VALUES ('early', r.visits_early), ('on_time', r.visits_on_time), ('late', r.visits_late),
                                ('missed', r.visits_missed)) AS t (timing, n)
     WHERE {rounds_in_period(property_id, start, end)}"""


def _results_in_period(property_id: str, start: str, end: str) -> str:
    return f"c.org_id = $1 AND c.property_id = {property_id} AND c.checked_at >= {start} AND c.checked_at < {end}"


ONE = ("$2", "$3", "$4")


# Each statement answers the property's totals (kind 'total') and one row per person (kind 'staff', with the
# person's name).
def _by_person(person: str, figures: str, rows: str) -> str:
    """`figures` over `rows`: the totals, and one row per `person` with their name."""
    return f"""
WITH f AS (
    SELECT CASE WHEN GROUPING({person}) = 1 THEN 'total' ELSE 'staff' END AS kind, {person} AS user_id,
           {figures}
      FROM {rows}
     GROUP BY GROUPING SETS ((), ({person}))
)
SELECT f.*, u.name FROM f LEFT JOIN users u ON u.org_id = $1 AND u.id = f.user_id"""


ROUNDS_SQL = _by_person("r.assignee_id", ROUND_FIGURES, f"rounds r WHERE {rounds_in_period(*ONE)}")

VISITS_SQL = f"""
WITH counted AS (
    SELECT r.assignee_id, t.timing, sum(t.n) AS n
      FROM {_visits_of_rounds(*ONE)}
     GROUP BY r.assignee_id, t.timing
), f AS (
    SELECT CASE WHEN GROUPING(assignee_id) = 1 THEN 'total' ELSE 'staff' END AS kind, assignee_id AS user_id,
           {VISIT_FIGURES}
      FROM counted
     GROUP BY GROUPING SETS ((), (assignee_id))
)
SELECT f.*, u.name FROM f LEFT JOIN users u ON u.org_id = $1 AND u.id = f.user_id"""

# Results: totals, by person, by template item and by checkpoint, from one pass over the period's rows. An item's
# label is the one in the newest version of its template that has the item (a relabelled item shows its new label).
COUNTED = "c.checked_by, c.checkpoint_id, c.template_version_id, c.item_key, c.outcome"


def _results_sql(counted: str) -> str:
    """The result figures over `counted`: rows of (checked_by, checkpoint_id, template_version_id, item_key,
    outcome, n)."""
    return f"""
WITH counted AS ({counted}
), f AS (
    SELECT CASE WHEN GROUPING(g.checked_by) = 0 THEN 'staff'
                WHEN GROUPING(g.item_key) = 0 THEN 'item'
                WHEN GROUPING(g.checkpoint_id) = 0 THEN 'location'
                ELSE 'total' END AS kind,
           g.checked_by AS user_id, tv.template_id, g.item_key, g.checkpoint_id,
           {ITEM_FIGURES}
      FROM counted g
      LEFT JOIN template_versions tv ON tv.org_id = $1 AND tv.id = g.template_version_id
     GROUP BY GROUPING SETS ((), (g.checked_by), (tv.template_id, g.item_key), (g.checkpoint_id))
)
SELECT f.*, u.name, cp.name AS checkpoint_name, label.label_zh, label.label_en
  FROM f
  LEFT JOIN users u ON f.kind = 'staff' AND u.org_id = $1 AND u.id = f.user_id
  LEFT JOIN checkpoints cp ON f.kind = 'location' AND cp.org_id = $1 AND cp.id = f.checkpoint_id
  LEFT JOIN LATERAL (
      SELECT item ->> 'label_zh' AS label_zh, item ->> 'label_en' AS label_en
        FROM template_versions tv, jsonb_array_elements(tv.items) AS item
       WHERE f.kind = 'item' AND tv.org_id = $1 AND tv.template_id = f.template_id AND item ->> 'key' = f.item_key
       ORDER BY tv.version DESC
       LIMIT 1
  ) label ON true"""


# an index-only scan of check_results_property: results carry their round's template version
RESULTS_SQL = _results_sql(
    f"SELECT {COUNTED}, count(*) AS n FROM check_results c WHERE {_results_in_period(*ONE)} GROUP BY {COUNTED}"
)
# Each range of $3 / $4 (arrays) counted, a settled month's counted rows ($5, kept: inspections/kpi_results.py)
# read back, one row per (person, checkpoint, template version, item, outcome) again.
RANGES = ("$2", "p.start_at", "p.end_at")
RESULTS_OF_PARTS_SQL = _results_sql(f"""
    SELECT checked_by, checkpoint_id, template_version_id, item_key, outcome, sum(n)::int8 AS n FROM (
        SELECT {COUNTED}, count(*) AS n
          FROM unnest($3::timestamptz[], $4::timestamptz[]) AS p (start_at, end_at)
          JOIN check_results c ON {_results_in_period(*RANGES)}
         GROUP BY {COUNTED}
        UNION ALL
        SELECT * FROM jsonb_to_recordset($5::jsonb) AS k (checked_by text, checkpoint_id text,
                                                            template_version_id text, item_key text, outcome text,
                                                            n int8)
    ) parts
     GROUP BY 1, 2, 3, 4, 5""")
# Each range's counted rows, as a jsonb array (what a settled month keeps).
COUNTED_OF_RANGES_SQL = f"""
SELECT p.start_at, coalesce((
    SELECT jsonb_agg(to_jsonb(g)) FROM (
        SELECT {COUNTED}, count(*) AS n FROM check_results c WHERE {_results_in_period(*RANGES)} GROUP BY {COUNTED}
    ) g), '[]'::jsonb) AS counted
  FROM unnest($3::timestamptz[], $4::timestamptz[]) AS p (start_at, end_at)"""

# As of the period's end, or now when it has not ended.
AS_OF = "least($4::timestamptz, $5::timestamptz)"
ORDERS_SQL = _by_person("o.responsible_id", _order_figures(), orders_in_period(*ONE, AS_OF))

# By the supervisor who gave the verdicts (kind 'staff'); what awaits a verdict is in the totals alone.
REVIEWS_SQL = _by_person("v.reviewed_by", _review_figures(), _reviews(*ONE, AS_OF))

# By whose evidence it is (kind 'staff'); items of nobody's (a scan without its scanner) in the totals alone.
EVIDENCE_SQL = _by_person("e.user_id", EVIDENCE_FIGURES, _evidence(*ONE))

# The org's view: each property's totals over its own UTC range (its own time zone), in one statement. Each family
# is an aggregate without GROUP BY, so a property with nothing in its period still answers zeros.
EACH = ("p.property_id", "p.start_at", "p.end_at")
EACH_AS_OF = "least(p.end_at, $5::timestamptz)"
EVIDENCE_TOTALS = f"(SELECT to_jsonb(x) FROM (SELECT {EVIDENCE_FIGURES} FROM {_evidence(*EACH)}) x) AS evidence"
TOTALS_SQL = f"""
SELECT p.property_id, p.start_at,
       (SELECT to_jsonb(x) FROM (SELECT {ROUND_FIGURES} FROM rounds r WHERE {rounds_in_period(*EACH)}) x) AS rounds,
       (SELECT to_jsonb(x) FROM (
           SELECT {VISIT_FIGURES}
             FROM (SELECT t.timing, sum(t.n) AS n FROM {_visits_of_rounds(*EACH)} GROUP BY t.timing) g) x
       ) AS visits,
       (SELECT to_jsonb(x) FROM (
           SELECT {ITEM_FIGURES}
             FROM (SELECT c.outcome, count(*) AS n FROM check_results c WHERE {_results_in_period(*EACH)}
                    GROUP BY c.outcome) g) x
       ) AS items,
       (SELECT to_jsonb(x) FROM (
           SELECT {_order_figures()} FROM {orders_in_period(*EACH, EACH_AS_OF)}) x
       ) AS rectification,
       (SELECT to_jsonb(x) FROM (
           SELECT {_review_figures()}
             FROM {_reviews(*EACH, EACH_AS_OF)}) x
       ) AS reviews,
       {EVIDENCE_TOTALS}
  FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) AS p (property_id, start_at, end_at)
 ORDER BY p.property_id, p.start_at"""


# Each range's evidence totals alone (a kept month's are counted again: a flag dismissed since moves them).
EVIDENCE_OF_RANGES_SQL = f"""
SELECT p.property_id, p.start_at, {EVIDENCE_TOTALS}
  FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) AS p (property_id, start_at, end_at)
 ORDER BY p.property_id, p.start_at"""


async def round_figures(
    conn: asyncpg.Connection, org_id: str, property_id: str, start: datetime, end: datetime, now: datetime
) -> list[asyncpg.Record]:
    return await conn.fetch(ROUNDS_SQL, org_id, property_id, start, end, now)


async def visit_figures(
    conn: asyncpg.Connection, org_id: str, property_id: str, start: datetime, end: datetime
) -> list[asyncpg.Record]:
    return await conn.fetch(VISITS_SQL, org_id, property_id, start, end)


async def item_figures(
    conn: asyncpg.Connection, org_id: str, property_id: str, start: datetime, end: datetime
) -> list[asyncpg.Record]:
    """Rows of kind 'total', 'staff', 'item' (with its newest label) and 'location' (with its checkpoint's name)."""
    return await conn.fetch(RESULTS_SQL, org_id, property_id, start, end)


async def item_figures_of_parts(
    conn: asyncpg.Connection,
    org_id: str,
    property_id: str,
    starts: list[datetime],
    ends: list[datetime],
    kept: list[object],
) -> list[asyncpg.Record]:
    """item_figures' rows over the ranges [starts[i], ends[i]) counted now and the counted rows `kept`."""
    return await conn.fetch(RESULTS_OF_PARTS_SQL, org_id, property_id, starts, ends, kept)


async def counted_of_ranges(
    conn: asyncpg.Connection, org_id: str, property_id: str, starts: list[datetime], ends: list[datetime]
) -> dict[datetime, list[object]]:
    """Each range's counted result rows (person, checkpoint, template version, item, outcome, n), by its start."""
    rows = await conn.fetch(COUNTED_OF_RANGES_SQL, org_id, property_id, starts, ends)
    return {row["start_at"]: row["counted"] for row in rows}


async def order_figures(
    conn: asyncpg.Connection, org_id: str, property_id: str, start: datetime, end: datetime, now: datetime
) -> list[asyncpg.Record]:
    return await conn.fetch(ORDERS_SQL, org_id, property_id, start, end, now)


async def review_figures(
    conn: asyncpg.Connection, org_id: str, property_id: str, start: datetime, end: datetime, now: datetime
) -> list[asyncpg.Record]:
    return await conn.fetch(REVIEWS_SQL, org_id, property_id, start, end, now)


async def property_totals(
    conn: asyncpg.Connection,
    org_id: str,
    property_ids: list[str],
    starts: list[datetime],
    ends: list[datetime],
    now: datetime,
) -> list[asyncpg.Record]:
    """Per property: property_id and the six families' totals as jsonb objects (rounds, visits, items,
    rectification, reviews, evidence)."""
    return await conn.fetch(TOTALS_SQL, org_id, property_ids, starts, ends, now)


async def evidence_figures(
    conn: asyncpg.Connection, org_id: str, property_id: str, start: datetime, end: datetime
) -> list[asyncpg.Record]:
    return await conn.fetch(EVIDENCE_SQL, org_id, property_id, start, end)


async def evidence_totals(
    conn: asyncpg.Connection, org_id: str, property_ids: list[str], starts: list[datetime], ends: list[datetime]
) -> list[asyncpg.Record]:
    """Per property and range: property_id, start_at and the evidence totals as a jsonb object."""
    return await conn.fetch(EVIDENCE_OF_RANGES_SQL, org_id, property_ids, starts, ends)


async def properties_in_scope(conn: asyncpg.Connection, org_id: str, ids: list[str] | None) -> list[asyncpg.Record]:
    """id, name and time zone of the org's properties (`ids` None: all of them)."""
    return await conn.fetch(
        """SELECT id, name, timezone FROM properties
            WHERE org_id = $1 AND ($2::text[] IS NULL OR id = ANY($2)) ORDER BY name, id""",
        org_id,
        ids,
    )
