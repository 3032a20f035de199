"""SQL for the service desk's KPIs (servicedesk/kpis.py says what each figure means; docs/service-desk.md writes
every formula out). Every figure is counted in PostgreSQL, every statement scoped by org_id.

What a ticket is in the period is worked out once per ticket (`_tickets`: flags and hours, as of the period's end,
or now when the period has not ended), then counted in two steps, as the inspection KPIs count visits: a plain
GROUP BY down to (kind, category, channel, person) -> measures (about a thousand rows for a year of 40,000
tickets), then the figures summed from those over GROUPING SETS, one per breakdown. One hash lookup per ticket
instead of a sort of every ticket per grouping set (bench/service_desk.py measured it). The months' counts are a
statement of their own: grouped with the rest by month and outcome too, the groups were as many as the tickets.

Parameters: $1 org_id, $2 property_id, $3 / $4 the period's UTC [start, end), $5 now, and for the months' counts
$6 the property's time zone. The org's totals take arrays instead ($2 property ids, $3 starts, $4 ends).
A rate is numerator / denominator as float8, NULL when the denominator is 0.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

REPEAT_DAYS = 30


def _count(condition: str) -> str:
    return f"count(*) FILTER (WHERE {condition})"


def _sum(column: str, condition: str) -> str:
    return f"sum({column}) FILTER (WHERE {condition})"


# Step 1: per group of tickets (alias d, the flags of `_tickets`), what the figures add up.
MEASURES = {
    "received": _count("d.received"),
    "declined": _count("d.received AND d.declined"),
    "complaints": _count("d.received AND d.kind = 'complaint'"),
    "repeats": _count("d.received AND d.repeat"),
    "respond_due": _count("d.respond_due"),
    "respond_on_time": _count("d.respond_due AND d.responded_on_time"),
    "respond_late": _count("d.respond_due AND d.responded_at IS NOT NULL AND NOT d.responded_on_time"),
    "respond_missing": _count("d.respond_due AND d.responded_at IS NULL"),
    "respond_extended": _count("d.respond_due AND d.respond_extended"),
    "responded": _count("d.responded"),
    "respond_hours": _sum("d.respond_hours", "d.responded"),
    "resolve_due": _count("d.resolve_due"),
    "resolve_on_time": _count("d.resolve_due AND d.resolved_on_time"),
    "resolve_late": _count("d.resolve_due AND d.first_resolved_at IS NOT NULL AND NOT d.resolved_on_time"),
    "resolve_missing": _count("d.resolve_due AND d.first_resolved_at IS NULL"),
    "resolve_extended": _count("d.resolve_due AND d.resolve_extended"),
    "resolved": _count("d.resolved"),
    "resolve_hours": _sum("d.resolve_hours", "d.resolved"),
    "first_time_fixed": _count("d.resolved AND d.reopens = 0"),
    "reopened": _count("d.resolved AND d.reopens > 0"),
    "confirmed": _count("d.confirmed"),
    "by_owner": _count("d.confirmed AND d.confirmed_via = 'owner'"),
    "by_staff": _count("d.confirmed AND d.confirmed_via = 'staff'"),
    "auto_confirmed": _count("d.confirmed AND d.confirmed_via = 'auto'"),
    "confirm_hours": _sum("d.confirm_hours", "d.confirmed"),
    "closed": _count("d.closed"),
    "closed_after_visit": _count("d.closed AND d.visits > 0"),
    "rated_visits": "sum(d.period_ratings)",
    "rating_sum": "sum(d.period_rating_sum)",
    "low_ratings": "sum(d.period_low_ratings)",
}


def _total(measure: str) -> str:
    return f"coalesce(sum(m.{measure}), 0)::int8"


def _ratio(numerator: str, denominator: str) -> str:
    return f"sum(m.{numerator})::float8 / nullif(sum(m.{denominator}), 0)"


def _mean_hours(intervals: str, count: str) -> str:
    # the tickets' intervals are summed as intervals (no conversion per ticket), and turned into hours once
    return f"date_part('epoch', sum(m.{intervals})) / 3600 / nullif(sum(m.{count}), 0)"


# Step 2: family -> figure -> its expression over the groups of step 1 (alias m). Names as servicedesk/kpis.py's
# Structs have them; a mean is a sum of hours over the count of what was timed.
FIGURES: dict[str, dict[str, str]] = {
    "intake": {
        "received": _total("received"),
        "declined": _total("declined"),
        "complaints": _total("complaints"),
        "repeats": _total("repeats"),
        "repeat_rate": _ratio("repeats", "received"),
    },
    "response": {
        "due": _total("respond_due"),
        "on_time": _total("respond_on_time"),
        "late": _total("respond_late"),
        "not_responded": _total("respond_missing"),
        "extended": _total("respond_extended"),
        "on_time_rate": _ratio("respond_on_time", "respond_due"),
        "responded": _total("responded"),
        "mean_hours_to_respond": _mean_hours("respond_hours", "responded"),
    },
    "resolution": {
        "due": _total("resolve_due"),
        "on_time": _total("resolve_on_time"),
        "late": _total("resolve_late"),
        "not_resolved": _total("resolve_missing"),
        "extended": _total("resolve_extended"),
        "on_time_rate": _ratio("resolve_on_time", "resolve_due"),
        "resolved": _total("resolved"),
        "mean_hours_to_resolve": _mean_hours("resolve_hours", "resolved"),
        "first_time_fixed": _total("first_time_fixed"),
        "reopened": _total("reopened"),
        "first_time_fix_rate": _ratio("first_time_fixed", "resolved"),
    },
    "confirmation": {
        "confirmed": _total("confirmed"),
        "by_owner": _total("by_owner"),
        "by_staff": _total("by_staff"),
        "auto_confirmed": _total("auto_confirmed"),
        "mean_hours_to_confirm": _mean_hours("confirm_hours", "confirmed"),
    },
    "visits": {
        "closed": _total("closed"),
        "closed_after_visit": _total("closed_after_visit"),
        "visit_coverage": _ratio("closed_after_visit", "closed"),
        "rated_visits": _total("rated_visits"),
        "mean_rating": _ratio("rating_sum", "rated_visits"),
        "low_ratings": _total("low_ratings"),
    },
}


def _columns(named: dict[str, str], alias: str = "{name}") -> str:
    return ",\n       ".join(f"{expression} AS {alias.format(name=name)}" for name, expression in named.items())


def _figures() -> str:
    """Each figure as a column named family__figure (servicedesk/kpis.py splits them back)."""
    return ",\n       ".join(
        f"{expression} AS {family}__{name}" for family, named in FIGURES.items() for name, expression in named.items()
    )


STEPS = "t.accepted_at, t.assigned_at, t.responded_at, t.resolved_at, t.confirmed_at, t.visited_at, t.closed_at"


def _tickets(property_id: str, start: str, end: str, as_of: str) -> str:
    """The tickets any figure may count, aliased d, each with what it is in the period: received before the
    period's end, and received in it or with a deadline, a step or a visit in it (every step follows receipt, so
    the latest of them being in the period says so; one scan of the property's tickets).

    The response is the first contact (responded_at) or, when none was recorded, the first resolution; the
    resolution is the first applied `resolve` event (the work handed in; a dispute or a poor visit that reopens
    it shows in the first-time fix rate). Everything is as of `as_of`: a step after it is not counted.

    A ticket never reopened has had one resolution, at most one visit and no dispute: its row says it all, each
    time compared with as_of. Only a reopened ticket's events are read (its row keeps its latest resolution and
    visit), by the index of its timeline; the two kinds are read apart and put together with UNION ALL. A repeat
    is found with a window over the tickets of a unit and category, the 30 days before the period included, and
    tested by a hashed lookup of the repeats' ids."""
    in_period = f"""t.org_id = $1 AND t.property_id = {property_id} AND t.received_at < {end}
               AND greatest(t.received_at, t.respond_due_original, t.resolve_due_original, {STEPS}) >= {start}"""
    common = f"""t.id, t.kind, t.category, t.channel, t.responsible_id, t.received_at, t.respond_due_at,
                t.respond_due_original, t.resolve_due_at, t.resolve_due_original, t.confirmed_via, t.confirmed_at,
                t.closed_at, t.status = 'declined' AND t.closed_at < {as_of} AS declined,
                -- the latest resolution the confirmation answered
                CASE WHEN t.resolved_at <= t.confirmed_at THEN t.resolved_at END AS resolved_at"""
    rated = f"t.visited_at >= {start} AND t.visited_at < {as_of}"
    visit = f"e.action = 'visit' AND e.created_at >= {start}"
    return f"""(SELECT s.kind, s.category, s.channel, s.responsible_id, s.confirmed_via, s.reopens, s.visits,
                s.period_ratings, s.period_rating_sum, s.period_low_ratings, s.responded_at, s.first_resolved_at,
                s.declined,
                s.received_at >= {start} AS received,
                s.id IN (SELECT w.id
                           FROM (SELECT t.id, t.received_at,
                                        max(t.received_at) FILTER (WHERE t.status <> 'declined') OVER (
                                            PARTITION BY t.unit_id COLLATE "C", t.category COLLATE "C"
                                            ORDER BY t.received_at, t.id COLLATE "C"
                                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_at
                                   FROM tickets t
                                  WHERE t.org_id = $1 AND t.property_id = {property_id} AND t.unit_id IS NOT NULL
                                    AND t.received_at >= {start} - interval '{REPEAT_DAYS} days'
                                    AND t.received_at < {end}) w
                          WHERE w.received_at >= {start}
                            AND w.received_at - w.earlier_at <= interval '{REPEAT_DAYS} days') AS repeat,
                s.respond_due_original >= {start} AND s.respond_due_original < {as_of} AS respond_due,
                s.responded_at <= s.respond_due_original AS responded_on_time,
                s.respond_due_at > s.respond_due_original AS respond_extended,
                s.responded_at >= {start} AS responded,
                s.responded_at - s.received_at AS respond_hours,
                s.resolve_due_original >= {start} AND s.resolve_due_original < {as_of} AS resolve_due,
                s.first_resolved_at <= s.resolve_due_original AS resolved_on_time,
                s.resolve_due_at > s.resolve_due_original AS resolve_extended,
                s.first_resolved_at >= {start} AS resolved,
                s.first_resolved_at - s.received_at AS resolve_hours,
                s.confirmed_at >= {start} AND s.confirmed_at < {as_of} AS confirmed,
                s.confirmed_at - s.resolved_at AS confirm_hours,
                -- a declined ticket is closed on the spot: not a closure the visits answer for
                s.closed_at >= {start} AND s.closed_at < {as_of} AND NOT s.declined AS closed
           FROM (SELECT {common},
                        CASE WHEN t.responded_at < {as_of} THEN t.responded_at END AS responded_at,
                        CASE WHEN t.resolved_at < {as_of} THEN t.resolved_at END AS first_resolved_at,
                        0 AS reopens,
                        (t.visited_at < {as_of})::int AS visits,
                        ({rated} AND t.visit_rating IS NOT NULL)::int AS period_ratings,
                        CASE WHEN {rated} THEN t.visit_rating END AS period_rating_sum,
                        ({rated} AND t.visit_rating <= 2)::int AS period_low_ratings
                   FROM tickets t
                  WHERE {in_period} AND t.reopens = 0
                 UNION ALL
                 SELECT {common},
                        least(CASE WHEN t.responded_at < {as_of} THEN t.responded_at END, e.first_resolved_at),
                        e.first_resolved_at, e.reopens, e.visits, e.period_ratings, e.period_rating_sum,
                        e.period_low_ratings
                   FROM tickets t
                  CROSS JOIN LATERAL (
                       SELECT min(e.created_at) FILTER (WHERE e.action = 'resolve') AS first_resolved_at,
                              count(*) FILTER (WHERE e.action = 'dispute' OR e.action = 'visit' AND e.rating <= 2)
                                  AS reopens,
                              count(*) FILTER (WHERE e.action = 'visit') AS visits,
                              count(e.rating) FILTER (WHERE {visit}) AS period_ratings,
                              sum(e.rating) FILTER (WHERE {visit}) AS period_rating_sum,
                              count(*) FILTER (WHERE {visit} AND e.rating <= 2) AS period_low_ratings
                         FROM ticket_events e
                        WHERE e.org_id = t.org_id AND e.ticket_id = t.id AND e.outcome = 'applied'
                          AND e.created_at < {as_of}
                  ) e
                  WHERE {in_period} AND t.reopens > 0) s) d"""


AS_OF = "least($4::timestamptz, $5::timestamptz)"
BREAKDOWN = "d.kind, d.category, d.channel, d.responsible_id"

# Totals ('total') and per kind, category, channel and person.
PROPERTY_SQL = f"""
WITH m AS (
    SELECT {BREAKDOWN},
           {_columns(MEASURES)}
      FROM {_tickets("$2", "$3", "$4", AS_OF)}
     GROUP BY {BREAKDOWN}
), f AS (
    SELECT CASE WHEN GROUPING(m.kind) = 0 THEN 'kind'
                WHEN GROUPING(m.category) = 0 THEN 'category'
                WHEN GROUPING(m.channel) = 0 THEN 'channel'
                WHEN GROUPING(m.responsible_id) = 0 THEN 'staff'
                ELSE 'total' END AS grouping,
           m.kind, m.category, m.channel, m.responsible_id AS user_id,
           {_figures()}
      FROM m
     GROUP BY GROUPING SETS ((), (m.kind), (m.category), (m.channel), (m.responsible_id))
)
SELECT f.*, u.name
  FROM f LEFT JOIN users u ON f.grouping = 'staff' AND u.org_id = $1 AND u.id = f.user_id"""

# Where a ticket received in the period stands at its end (or now): its status then, from the last applied event
# before then when a step came after it (the same rule as `_tickets`), else from its row.
STALE = " OR ".join(f"{step} >= {{as_of}}" for step in STEPS.split(", "))
OUTCOME = """CASE WHEN s.status = 'declined' THEN 'declined'
                  WHEN s.status = 'received' THEN 'pending'
                  WHEN s.status IN ('accepted', 'assigned', 'responded') THEN 'open'
                  WHEN s.status IN ('resolved', 'confirmed') THEN 'resolved'
                  ELSE 'closed' END"""

# The local months' counts of the tickets received in the period: by kind, by category, by outcome ($3 / $4 the
# period, $5 now, $6 the zone).
MONTHLY_SQL = f"""
SELECT s.month, s.kind, s.category, s.outcome, GROUPING(s.kind) = 0 AS by_kind,
       GROUPING(s.category) = 0 AS by_category, count(*) AS received
  FROM (SELECT to_char(date_trunc('month', s.received_at AT TIME ZONE $6), 'YYYY-MM') AS month, s.kind, s.category,
               {OUTCOME} AS outcome
          FROM (SELECT t.received_at, t.kind, t.category,
                       coalesce(e.status, CASE WHEN {STALE.format(as_of=AS_OF)} THEN 'received' ELSE t.status END)
                       AS status
                  FROM tickets t
                  LEFT JOIN (
                      SELECT DISTINCT ON (e.ticket_id) e.ticket_id, e.status_after AS status
                        FROM tickets t
                        JOIN ticket_events e ON e.org_id = t.org_id AND e.ticket_id = t.id
                       WHERE t.org_id = $1 AND t.property_id = $2 AND t.received_at >= $3 AND t.received_at < $4
                         AND ({STALE.format(as_of=AS_OF)})
                         AND e.outcome = 'applied' AND e.created_at < {AS_OF} AND e.status_after IS NOT NULL
                       ORDER BY e.ticket_id, e.seq DESC
                  ) e ON e.ticket_id = t.id
                 WHERE t.org_id = $1 AND t.property_id = $2 AND t.received_at >= $3 AND t.received_at < $4) s) s
 GROUP BY GROUPING SETS ((s.month, s.kind), (s.month, s.category), (s.month, s.outcome))"""

HOUSEHOLDS = "(SELECT count(*) FROM units u WHERE u.org_id = $1 AND u.property_id = {property_id})"

# Each property's totals over its own UTC range; an aggregate without GROUP BY answers zeros for a quiet property.
TOTALS_SQL = f"""
SELECT p.property_id, {HOUSEHOLDS.format(property_id="p.property_id")} AS households, f.*
  FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) AS p (property_id, start_at, end_at)
 CROSS JOIN LATERAL (
     SELECT {_figures()}
       FROM (SELECT {_columns(MEASURES)}
               FROM {_tickets("p.property_id", "p.start_at", "p.end_at", "least(p.end_at, $5::timestamptz)")}) m
 ) f
 ORDER BY p.property_id"""


async def property_figures(
    conn: asyncpg.Connection, org_id: str, property_id: str, start: datetime, end: datetime, now: datetime
) -> list[asyncpg.Record]:
    """Rows of `grouping` total, kind, category, channel and staff (user_id, name), each with every figure as
    family__figure."""
    return await conn.fetch(PROPERTY_SQL, org_id, property_id, start, end, now)


async def monthly_counts(
    conn: asyncpg.Connection,
    org_id: str,
    property_id: str,
    start: datetime,
    end: datetime,
    now: datetime,
    timezone: str,
) -> list[asyncpg.Record]:
    """Tickets received in [start, end) per local month (YYYY-MM) and kind (by_kind), category (by_category) or
    outcome (neither): month, kind, category, outcome, received."""
    return await conn.fetch(MONTHLY_SQL, org_id, property_id, start, end, now, timezone)


async def households(conn: asyncpg.Connection, org_id: str, property_id: str) -> int:
    """The property's units."""
    count: int = await conn.fetchval(f"SELECT {HOUSEHOLDS.format(property_id='$2')}", org_id, property_id)
    return count


async def property_totals(
    conn: asyncpg.Connection,
    org_id: str,
    property_ids: list[str],
    starts: list[datetime],
    ends: list[datetime],
    now: datetime,
) -> list[asyncpg.Record]:
    """Per property: property_id, households and the totals' figures as family__figure."""
    return await conn.fetch(TOTALS_SQL, org_id, property_ids, starts, ends, now)
