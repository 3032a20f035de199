"""The rectification ledger's summary of a period, by category and severity (the property report's table)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

# $1 org, $2 property, $3 start, $4 end, $5 as of (the period's end, or now when it has not ended). The same
# meanings as the KPIs' (inspections/repository/kpis.py _orders): opened in the period; fixed = handed in during
# it; open = not handed in at as_of; overdue = of those, past their first deadline at as_of.
LEDGER_SQL = """
WITH o AS (
    SELECT o.category, o.severity,
           o.created_at >= $3 AS opened,
           o.status IN ('submitted', 'verified') AND o.submitted_at >= $3 AND o.submitted_at < $4 AS fixed,
           NOT (o.status IN ('submitted', 'verified') AND o.submitted_at <= $5) AS open,
           o.original_due_at < $5 AS past_due
      FROM rectification_orders o
     WHERE o.org_id = $1 AND o.property_id = $2 AND o.created_at < $4
       AND (o.created_at >= $3 OR o.status IN ('open', 'in_progress') OR o.submitted_at >= $3)
)
SELECT category, severity,
       count(*) FILTER (WHERE opened) AS opened,
       count(*) FILTER (WHERE fixed) AS fixed,
       count(*) FILTER (WHERE open) AS open,
       count(*) FILTER (WHERE open AND past_due) AS overdue
  FROM o
 GROUP BY category, severity
HAVING count(*) FILTER (WHERE opened OR fixed OR open) > 0
 ORDER BY category, severity"""


async def ledger_rows(
    conn: asyncpg.Connection, org_id: str, property_id: str, start: datetime, end: datetime, as_of: datetime
) -> list[asyncpg.Record]:
    return await conn.fetch(LEDGER_SQL, org_id, property_id, start, end, as_of)
