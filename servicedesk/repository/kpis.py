"""SQL for the service desk's KPIs (servicedesk/kpis.py says what each figure means; docs/service-desk.md writes
every formula out). Every figure is counted in PostgreSQL, every statement scoped by org_id.

What a ticket is in the period is worked out once per ticket (`_tickets`: flags and hours, as of the period's end,
or now when the period has not ended), from the ticket's row and its applied events before then; the figures
count those flags, over GROUPING SETS for the breakdowns.

Parameters: $1 org_id, $2 property_id, $3 / $4 the period's UTC [start, end), $5 now, $6 the property's time zone
(the local months). The org's totals take arrays instead ($2 property ids, $3 starts, $4 ends).
A rate is numerator / denominator as float8, NULL when the denominator is 0.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

REPEAT_DAYS = 30

# family -> figure -> (aggregate, its expression over the flags of `_tickets`, alias d)
Figures = dict[str, dict[str, str]]


def _count(condition: str) -> str:
    return f"count(*) FILTER (WHERE {condition})"


def _rate(numerator: str, denominator: str) -> str:
    return f"{_count(numerator)}::float8 / nullif({_count(denominator)}, 0)"


def _mean(column: str, condition: str) -> str:
    return f"avg({column}) FILTER (WHERE {condition})"


FIGURES: Figures = {
    "intake": {
        "received": _count("d.received"),
        "declined": _count("d.received AND d.outcome = 'declined'"),
        "complaints": _count("d.received AND d.kind = 'complaint'"),
        "repeats": _count("d.received AND d.repeat"),
        "repeat_rate": _rate("d.received AND d.repeat", "d.received"),
    },
    "response": {
        "due": _count("d.respond_due"),
        "on_time": _count("d.respond_due AND d.responded_on_time"),
        "late": _count("d.respond_due AND d.responded_at IS NOT NULL AND NOT d.responded_on_time"),
        "not_responded": _count("d.respond_due AND d.responded_at IS NULL"),
        "extended": _count("d.respond_due AND d.respond_extended"),
        "on_time_rate": _rate("d.respond_due AND d.responded_on_time", "d.respond_due"),
        "responded": _count("d.responded"),
        "mean_hours_to_respond": _mean("d.respond_hours", "d.responded"),
    },
    "resolution": {
        "due": _count("d.resolve_due"),
        "on_time": _count("d.resolve_due AND d.resolved_on_time"),
        "late": _count("d.resolve_due AND d.first_resolved_at IS NOT NULL AND NOT d.resolved_on_time"),
        "not_resolved": _count("d.resolve_due AND d.first_resolved_at IS NULL"),
        "extended": _count("d.resolve_due AND d.resolve_extended"),
        "on_time_rate": _rate("d.resolve_due AND d.resolved_on_time", "d.resolve_due"),
        "resolved": _count("d.resolved"),
        "mean_hours_to_resolve": _mean("d.resolve_hours", "d.resolved"),
        "first_time_fixed": _count("d.resolved AND d.reopens = 0"),
        "reopened": _count("d.resolved AND d.reopens > 0"),
        "first_time_fix_rate": _rate("d.resolved AND d.reopens = 0", "d.resolved"),
    },
    "confirmation": {
        "confirmed": _count("d.confirmed"),
        "by_owner": _count("d.confirmed AND d.confirmed_via = 'owner'"),
        "by_staff": _count("d.confirmed AND d.confirmed_via = 'staff'"),
        "auto_confirmed": _count("d.confirmed AND d.confirmed_via = 'auto'"),
        "mean_hours_to_confirm": _mean("d.confirm_hours", "d.confirmed"),
    },
    "visits": {
        "closed": _count("d.closed"),
        "closed_after_visit": _count("d.closed AND d.visits > 0"),
        "visit_coverage": _rate("d.closed AND d.visits > 0", "d.closed"),
        "rated_visits": "coalesce(sum(d.period_ratings), 0)::int8",
        "mean_rating": "sum(d.period_rating_sum)::float8 / nullif(sum(d.period_ratings), 0)",
        "low_ratings": "coalesce(sum(d.period_low_ratings), 0)::int8",
    },
}


def _columns(figures: Figures) -> str:
    """Each figure as a column named family__figure (servicedesk/kpis.py splits them back)."""
    return ",\n       ".join(
        f"{expression} AS {family}__{name}" for family, named in figures.items() for name, expression in named.items()
    )


def _hours(interval: str) -> str:
    return f"date_part('epoch', {interval}) / 3600"


# Where a ticket stands by its status (as of the period's end): the monthly counts' outcomes.
OUTCOME = """CASE WHEN s.status = 'declined' THEN 'declined'
                  WHEN s.status = 'received' THEN 'pending'
                  WHEN s.status IN ('accepted', 'assigned', 'responded') THEN 'open'
                  WHEN s.status IN ('resolved', 'confirmed') THEN 'resolved'
                  ELSE 'closed' END"""


def _tickets(property_id: str, start: str, end: str, as_of: str, zone: str) -> str:
    """The tickets any figure may count, aliased d, each with what it is in the period: received before the
    period's end, and received in it or with a deadline, a step or a visit in it (every step follows receipt, so
    the latest of them being in the period says so; one scan of the property's tickets).

    The response is the first contact (responded_at) or, when none was recorded, the first resolution; the
    resolution is the first applied `resolve` event (the work handed in; a dispute or a poor visit that reopens
    it shows in the first-time fix rate). Everything is as of `as_of`: events after it are not read, and a
    status is the one the last applied event before it left (the last the server took: `seq`)."""
    return f"""(SELECT s.*,
                s.received_at >= {start} AS received,
                CASE WHEN s.received_at >= {start}
                     THEN to_char(s.received_at AT TIME ZONE {zone}, 'YYYY-MM') END AS month,
                {OUTCOME} AS outcome,
                s.respond_due_original >= {start} AND s.respond_due_original < {as_of} AS respond_due,
                s.responded_at <= s.respond_due_original AS responded_on_time,
                s.respond_due_at > s.respond_due_original AS respond_extended,
                s.responded_at >= {start} AS responded,
                {_hours("s.responded_at - s.received_at")} AS respond_hours,
                s.resolve_due_original >= {start} AND s.resolve_due_original < {as_of} AS resolve_due,
                s.first_resolved_at <= s.resolve_due_original AS resolved_on_time,
                s.resolve_due_at > s.resolve_due_original AS resolve_extended,
                s.first_resolved_at >= {start} AS resolved,
                {_hours("s.first_resolved_at - s.received_at")} AS resolve_hours,
                s.confirmed_at >= {start} AND s.confirmed_at < {as_of} AS confirmed,
                {_hours("s.confirmed_at - s.resolved_at")} AS confirm_hours,
                -- a declined ticket is closed on the spot: not a closure the visits answer for
                s.closed_at >= {start} AND s.closed_at < {as_of} AND s.status <> 'declined' AS closed
           FROM (SELECT t.kind, t.category, t.channel, t.responsible_id, t.received_at, t.respond_due_at,
                        t.respond_due_original, t.resolve_due_at, t.resolve_due_original, t.confirmed_via,
                        t.confirmed_at, t.closed_at,
                        -- the latest resolution the confirmation answered
                        CASE WHEN t.resolved_at <= t.confirmed_at THEN t.resolved_at END AS resolved_at,
                        coalesce(e.status, t.status) AS status,
                        least(CASE WHEN t.responded_at < {as_of} THEN t.responded_at END, e.first_resolved_at)
                            AS responded_at,
                        e.first_resolved_at, e.reopens, e.visits, e.period_ratings, e.period_rating_sum,
                        e.period_low_ratings,
                        t.unit_id IS NOT NULL AND EXISTS (
                            SELECT FROM tickets b
                             WHERE b.org_id = t.org_id AND b.unit_id = t.unit_id AND b.category = t.category
                               AND b.id <> t.id AND b.status <> 'declined'
                               AND b.received_at < t.received_at
                               AND b.received_at >= t.received_at - interval '{REPEAT_DAYS} days'
                        ) AS repeat
                   FROM tickets t
                   LEFT JOIN LATERAL (
                       SELECT min(e.created_at) FILTER (WHERE e.action = 'resolve') AS first_resolved_at,
                              count(*) FILTER (WHERE e.action = 'dispute' OR e.action = 'visit' AND e.rating <= 2)
                                  AS reopens,
                              count(*) FILTER (WHERE e.action = 'visit') AS visits,
                              count(e.rating) FILTER (WHERE e.action = 'visit' AND e.created_at >= {start})
                                  AS period_ratings,
                              sum(e.rating) FILTER (WHERE e.action = 'visit' AND e.created_at >= {start})
                                  AS period_rating_sum,
                              count(*) FILTER (WHERE e.action = 'visit' AND e.created_at >= {start}
                                                 AND e.rating <= 2) AS period_low_ratings,
                              (array_agg(e.status_after ORDER BY e.seq DESC)
                                  FILTER (WHERE e.status_after IS NOT NULL))[1] AS status
                         FROM ticket_events e
                        WHERE e.org_id = t.org_id AND e.ticket_id = t.id AND e.outcome = 'applied'
                          AND e.created_at < {as_of}
                   ) e ON true
                  WHERE t.org_id = $1 AND t.property_id = {property_id} AND t.received_at < {end}
                    AND greatest(t.received_at, t.respond_due_original, t.resolve_due_original, t.responded_at,
                                 t.resolved_at, t.confirmed_at, t.visited_at, t.closed_at) >= {start}) s) d"""


AS_OF = "least($4::timestamptz, $5::timestamptz)"

# Totals ('total'), per kind, category, channel and person, and the local months' counts (received tickets by
# kind, category and outcome).
PROPERTY_SQL = f"""
WITH f AS (
    SELECT CASE WHEN GROUPING(d.month) = 0 AND GROUPING(d.kind) = 0 THEN 'month_kind'
                WHEN GROUPING(d.month) = 0 AND GROUPING(d.category) = 0 THEN 'month_category'
                WHEN GROUPING(d.month) = 0 THEN 'month_outcome'
                WHEN GROUPING(d.kind) = 0 THEN 'kind'
                WHEN GROUPING(d.category) = 0 THEN 'category'
                WHEN GROUPING(d.channel) = 0 THEN 'channel'
                WHEN GROUPING(d.responsible_id) = 0 THEN 'staff'
                ELSE 'total' END AS grouping,
           d.month, d.kind, d.category, d.channel, d.outcome, d.responsible_id AS user_id,
           {_columns(FIGURES)}
      FROM {_tickets("$2", "$3", "$4", AS_OF, "$6")}
     GROUP BY GROUPING SETS ((), (d.kind), (d.category), (d.channel), (d.responsible_id),
                            (d.month, d.kind), (d.month, d.category), (d.month, d.outcome))
)
SELECT f.*, u.name
  FROM f LEFT JOIN users u ON f.grouping = 'staff' AND u.org_id = $1 AND u.id = f.user_id
 WHERE NOT (f.grouping LIKE 'month%' AND f.month IS NULL)"""

HOUSEHOLDS = "(SELECT count(*) FROM units u WHERE u.org_id = $1 AND u.property_id = {property_id})"

# Each property's totals over its own UTC range; an aggregate without GROUP BY answers zeros for a quiet property.
TOTALS_SQL = f"""
SELECT p.property_id, {HOUSEHOLDS.format(property_id="p.property_id")} AS households, f.*
  FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) AS p (property_id, start_at, end_at)
 CROSS JOIN LATERAL (
     SELECT {_columns(FIGURES)}
       FROM {_tickets("p.property_id", "p.start_at", "p.end_at", "least(p.end_at, $5::timestamptz)", "'UTC'")}
 ) f
 ORDER BY p.property_id"""


async def property_figures(
    conn: asyncpg.Connection,
    org_id: str,
    property_id: str,
    start: datetime,
    end: datetime,
    now: datetime,
    timezone: str,
) -> list[asyncpg.Record]:
    """Rows of `grouping` total, kind, category, channel, staff (user_id, name), month_kind, month_category and
    month_outcome (month YYYY-MM, and kind, category or outcome), each with every figure as family__figure."""
    return await conn.fetch(PROPERTY_SQL, org_id, property_id, start, end, now, timezone)


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
