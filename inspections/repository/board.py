"""SQL for what a property's rounds and orders are right now (the console's board) and the records behind a KPI
figure (its drill-down). The conditions are the KPI statements' own (inspections/repository/kpis.py): a figure and
the list behind it cannot disagree.

Parameters as in kpis.py: $1 org_id, $2 property_id, $3 / $4 the period's UTC [start, end), $5 now."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from inspections.repository.kpis import AS_OF, ONE, ORDER_COUNTS, ROUND_COUNTS, orders_in_period, rounds_in_period

# Late right now: planned or walking, its window closed. The workers mark a planned round missed soon after its
# window ends, and a round being walked may still be completed (then its visits say how late it was).
# A round without a window (made by hand with none) is never late: the comparison is false, not NULL, so the
# standings below still give it one.
LATE = "r.status IN ('planned', 'in_progress') AND coalesce(r.window_end < $5, false)"
# What each round is now: one standing each, so the board's figures add up to the day's rounds.
STANDINGS = {
    "planned": f"r.status = 'planned' AND NOT ({LATE})",
    "in_progress": f"r.status = 'in_progress' AND NOT ({LATE})",
    "late": LATE,
    "completed": ROUND_COUNTS["completed"],
    "missed": ROUND_COUNTS["missed"],
}
# A rounds list may show a standing or a KPI figure (the rounds a rate counts); `due` is the completion rate's
# denominator. KPI "planned" and "in_progress" include late ones: the lists use the board's meaning.
ROUND_FILTERS = {**STANDINGS, "due": ROUND_COUNTS["due"], "all": "true"}
# The orders behind a rectification figure (ORDER_COUNTS names them).
ORDER_FILTERS = dict(ORDER_COUNTS)

STANDING_SQL = "CASE " + " ".join(f"WHEN {cond} THEN '{name}'" for name, cond in STANDINGS.items()) + " END"

ROUND_COUNTS_SQL = f"""
SELECT {STANDING_SQL} AS standing, count(*) AS n
  FROM rounds r WHERE {rounds_in_period(*ONE)}
 GROUP BY 1"""


def _rounds_sql(condition: str) -> str:
    return f"""
SELECT r.id, r.status, {STANDING_SQL} AS standing, r.window_start, r.window_end, r.started_at, r.completed_at,
       r.assignee_id, u.name AS assignee_name, r.route_id, rt.name AS route_name, tv.name_zh AS template_zh,
       tv.name_en AS template_en
  FROM rounds r
  LEFT JOIN users u ON u.org_id = $1 AND u.id = r.assignee_id
  LEFT JOIN routes rt ON rt.org_id = $1 AND rt.id = r.route_id
  LEFT JOIN template_versions tv ON tv.org_id = $1 AND tv.id = r.template_version_id
 WHERE {rounds_in_period(*ONE)} AND ({condition})
 ORDER BY coalesce(r.window_start, r.created_at), r.id
 LIMIT $6"""


ROUNDS_SQL = {name: _rounds_sql(cond) for name, cond in ROUND_FILTERS.items()}


def _order_line(o: str) -> str:
    return f"""{o}.id, {o}.location, {o}.category, {o}.description, {o}.severity, {o}.status, {o}.due_at,
       {o}.original_due_at, {o}.submitted_at, {o}.created_at, {o}.responsible_id, u.name AS responsible_name"""


# The property's orders not verified, by deadline: the overdue come first (their deadlines are the earliest).
OPEN_ORDERS_SQL = f"""
SELECT {_order_line("o")}, count(*) OVER () AS total, count(*) FILTER (WHERE o.due_at < $3) OVER () AS overdue,
       count(*) FILTER (WHERE o.status = 'submitted') OVER () AS submitted
  FROM rectification_orders o
  LEFT JOIN users u ON u.org_id = $1 AND u.id = o.responsible_id
 WHERE o.org_id = $1 AND o.property_id = $2 AND o.status <> 'verified'
 ORDER BY coalesce(o.due_at, 'infinity'), o.id
 LIMIT $4"""

# Per property: the orders not verified, those past their deadline in force, those awaiting a verdict.
ORDER_SUMMARY_SQL = """
SELECT property_id, count(*) AS total, count(*) FILTER (WHERE due_at < $3) AS overdue,
       count(*) FILTER (WHERE status = 'submitted') AS submitted
  FROM rectification_orders
 WHERE org_id = $1 AND property_id = ANY($2::text[]) AND status <> 'verified'
 GROUP BY property_id"""


def _orders_sql(condition: str) -> str:
    return f"""
SELECT {_order_line("oo")}
  FROM {orders_in_period(*ONE, AS_OF)}
  JOIN rectification_orders oo ON oo.org_id = $1 AND oo.id = o.id
  LEFT JOIN users u ON u.org_id = $1 AND u.id = oo.responsible_id
 WHERE {condition}
 ORDER BY oo.original_due_at NULLS LAST, oo.created_at, oo.id
 LIMIT $6"""


ORDERS_SQL = {name: _orders_sql(cond) for name, cond in ORDER_FILTERS.items()}


async def round_standings(
    conn: asyncpg.Connection, org_id: str, property_id: str, start: datetime, end: datetime, now: datetime
) -> dict[str, int]:
    rows = await conn.fetch(ROUND_COUNTS_SQL, org_id, property_id, start, end, now)
    return {row["standing"]: row["n"] for row in rows}


async def listed(
    conn: asyncpg.Connection,
    statement: str,
    org_id: str,
    property_id: str,
    start: datetime,
    end: datetime,
    now: datetime,
    limit: int,
) -> list[asyncpg.Record]:
    """The rows of one of ROUNDS_SQL (the period's rounds of a filter, by window, with assignee, route and
    template names) or ORDERS_SQL (the orders a rectification figure counts, by first deadline)."""
    return await conn.fetch(statement, org_id, property_id, start, end, now, limit)


async def open_orders(
    conn: asyncpg.Connection, org_id: str, property_id: str, now: datetime, limit: int
) -> list[asyncpg.Record]:
    """Orders not verified, by deadline; each row also carries the counts of all of them (total, overdue,
    submitted)."""
    return await conn.fetch(OPEN_ORDERS_SQL, org_id, property_id, now, limit)


async def order_summaries(
    conn: asyncpg.Connection, org_id: str, property_ids: list[str], now: datetime
) -> list[asyncpg.Record]:
    """property_id, total, overdue and submitted of each property's orders not verified (none: no row)."""
    return await conn.fetch(ORDER_SUMMARY_SQL, org_id, property_ids, now)
