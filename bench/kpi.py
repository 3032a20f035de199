"""Inspection KPIs: each KPI statement over a year of one property's rounds, against a plain count of the same rows.

    .venv/bin/python -m bench.kpi [--days N] [--repeats N]

One property (Asia/Shanghai) with a year of work, written set-based (INSERT … SELECT over generate_series):
24 rounds a day of a 20-checkpoint route, one visit and one checklist result per checkpoint (175,200 of each for
365 days), about 3% of results failing, a rectification order for each failure (verified on time, verified late,
sent back once, or still open) and every verdict on them, 8 staff members. Then, over the whole year, each
statement of GET /properties/{id}/kpis, the use case that runs them, and the org-wide statement of GET /kpis are
timed, interleaved with the baseline: SELECT count(*) of the property's check_results in the same UTC range (the
same rows scanned).
The use case is timed over the default period (the last 30 local days) too, against the baseline over those days.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from bench._support import ROOT, Result, median, percentile, print_results, say, scratch_database
from core.access import Caller
from core.db import connect
from core.people import service as people
from core.people.schemas import UserCreate
from core.places import service as places
from core.places.schemas import PropertyCreate
from inspections import kpis
from inspections.repository import kpis as sql
from inspections.repository import work

PASSWORD = "bench-password-0123456789"
STAFF = 8
CHECKPOINTS = 20
ROUNDS_PER_DAY = 24
FIRST_DAY = date(2025, 1, 1)
TARGET_MS = 200.0
USE_CASE = "GET /properties/{id}/kpis use case (all of them)"
USE_CASE_30 = "the same, default period (last 30 days)"
BASELINE = """SELECT count(*) FROM check_results
               WHERE org_id = $1 AND property_id = $2 AND checked_at >= $3 AND checked_at < $4"""


async def build_world(conn: asyncpg.Connection) -> tuple[Caller, str, list[str]]:
    """An org, its admin, a property and its staff, through the services (as tests/world.py does)."""
    async with conn.transaction():
        org_id, admin = await people.create_org(
            conn, name="Bench", admin_name="Admin", admin_email="admin@bench.test", admin_password=PASSWORD
        )
        caller = Caller(org_id=org_id, user_id=admin.id, role="admin", session_id="bench")
        prop = await places.create_property(conn, caller, PropertyCreate(name="Garden", timezone="Asia/Shanghai"))
        staff = []
        for i in range(STAFF):
            user = await people.create_user(
                conn,
                caller,
                UserCreate(name=f"Staff {i + 1}", role="staff", email=f"staff{i + 1}@bench.test", password=PASSWORD),
            )
            await people.assign_staff(conn, caller, prop.id, user.id)
            staff.append(user.id)
    return caller, prop.id, staff


async def load_year(
    conn: asyncpg.Connection,
    org_id: str,
    property_id: str,
    staff: list[str],
    days: int,
    first_day: date = FIRST_DAY,
) -> None:
    """A year of rounds, visits, results and orders in set-based statements, from `first_day`. Round n starts at
    hour n of the period (local time; Shanghai keeps no summer time); checkpoint k of it is reached 2k minutes in."""
    start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC) - timedelta(hours=8)
    items = [
        {"type": "pass_fail", "key": f"cp{k:02d}", "label_zh": f"检查点{k}", "label_en": f"Point {k}"}
        for k in range(1, CHECKPOINTS + 1)
    ]
    relabelled = [{**item, "label_en": f"{item['label_en']} (v2)"} for item in items]
    await conn.execute("SELECT setseed(0.20250101)")  # the same year on every run
    await conn.execute("INSERT INTO checklist_templates (org_id, id, current_version) VALUES ($1, 'tpl', 2)", org_id)
    await conn.executemany(
        """INSERT INTO template_versions (org_id, id, template_id, version, name_zh, name_en, category, items)
           VALUES ($1, $2, 'tpl', $3, '夜间巡更', 'Night patrol', 'patrol', $4)""",
        [(org_id, "tpl-v1", 1, items), (org_id, "tpl-v2", 2, relabelled)],
    )
    await conn.execute(
        """INSERT INTO checkpoints (org_id, id, property_id, name, tag_code)
           SELECT $1, 'cp' || lpad(k::text, 2, '0'), $2, '检查点 ' || k, 'tag-' || k
             FROM generate_series(1, $3::int) AS k""",
        org_id,
        property_id,
        CHECKPOINTS,
    )
    say(f"rounds: {days} days × {ROUNDS_PER_DAY}")
    # the second half of the year runs on version 2 of the template
    await conn.execute(
        """INSERT INTO rounds (org_id, id, property_id, template_version_id, assignee_id, status,
                               window_start, window_end, started_at, completed_at, created_at)
           SELECT $1, 'r' || n, $2, CASE WHEN n < $5 / 2 THEN 'tpl-v1' ELSE 'tpl-v2' END,
                  ($3::text[])[1 + n % array_length($3, 1)],
                  CASE WHEN u < 0.94 THEN 'completed' WHEN u < 0.98 THEN 'missed'
                       WHEN u < 0.99 THEN 'in_progress' ELSE 'planned' END,
                  at, at + interval '50 minutes', at, at + interval '45 minutes', at - interval '1 day'
             FROM (SELECT n, $4::timestamptz + n * interval '1 hour' AS at, random() AS u
                     FROM generate_series(0, $5::int - 1) AS n) s""",
        org_id,
        property_id,
        staff,
        start,
        days * ROUNDS_PER_DAY,
    )
    say(f"visits and results: {days * ROUNDS_PER_DAY * CHECKPOINTS:,} of each")
    await conn.execute(
        """INSERT INTO checkpoint_visits (org_id, id, property_id, round_id, checkpoint_id, checked_by, scanned_at,
                                          expected_at, timing)
           SELECT org_id, id || '-' || k, property_id, id, 'cp' || lpad(k::text, 2, '0'), assignee_id, at, at,
                  CASE WHEN u < 0.90 THEN 'on_time' WHEN u < 0.93 THEN 'early' WHEN u < 0.98 THEN 'late'
                       ELSE 'missed' END
             FROM (SELECT r.*, k, r.window_start + k * interval '2 minutes' AS at, random() AS u
                     FROM rounds r, generate_series(1, $3::int) AS k
                    WHERE r.org_id = $1 AND r.property_id = $2) s""",
        org_id,
        property_id,
        CHECKPOINTS,
    )
    # what inspections.push_settlement does after each push that records visits
    round_ids = [r["id"] for r in await conn.fetch("SELECT id FROM rounds WHERE org_id = $1", org_id)]
    await work.count_visits(conn, org_id, round_ids)
    await conn.execute(
        """INSERT INTO check_results (org_id, id, property_id, round_id, visit_id, checkpoint_id, item_key, result,
                                      checked_by, checked_at, outcome, template_version_id)
           SELECT org_id, id, property_id, round_id, id, checkpoint_id, checkpoint_id, o, checked_by, scanned_at, o,
                  template_version_id
             FROM (SELECT v.*, r.template_version_id, CASE WHEN random() < 0.03 THEN 'fail' ELSE 'pass' END AS o
                     FROM checkpoint_visits v JOIN rounds r ON r.org_id = v.org_id AND r.id = v.round_id
                    WHERE v.org_id = $1 AND v.property_id = $2) s""",
        org_id,
        property_id,
    )
    say("rectification orders for the failed results")
    # 55% verified by the deadline, 20% verified late, 15% sent back once then verified, 10% still open
    await conn.execute(
        """INSERT INTO rectification_orders (org_id, id, property_id, source, check_id, round_id, checkpoint_id,
               category, description, severity, responsible_id, reported_by, status, due_at, original_due_at,
               started_at, submitted_at, verified_at, verified_by, rejections, created_at)
           SELECT c.org_id, 'o-' || c.id, c.property_id, 'check', c.id, c.round_id, c.checkpoint_id, 'patrol',
                  'checkpoint not in order', 'medium', c.checked_by, c.checked_by,
                  CASE WHEN u < 0.90 THEN 'verified' WHEN u < 0.95 THEN 'in_progress' ELSE 'open' END,
                  at + interval '24 hours', at + interval '24 hours',
                  CASE WHEN u < 0.95 THEN at + interval '1 hour' END,
                  CASE WHEN u < 0.55 THEN at + interval '10 hours' WHEN u < 0.75 THEN at + interval '28 hours'
                       WHEN u < 0.90 THEN at + interval '20 hours' END,
                  CASE WHEN u < 0.55 THEN at + interval '12 hours' WHEN u < 0.75 THEN at + interval '30 hours'
                       WHEN u < 0.90 THEN at + interval '40 hours' END,
                  CASE WHEN u < 0.90 THEN $3 END,
                  CASE WHEN u >= 0.75 AND u < 0.90 THEN 1 ELSE 0 END,
                  at
             FROM (SELECT c.*, c.checked_at + interval '5 minutes' AS at, random() AS u
                     FROM check_results c
                    WHERE c.org_id = $1 AND c.property_id = $2 AND c.outcome = 'fail') c""",
        org_id,
        property_id,
        staff[0],
    )
    # each verdict, as inspections.rectification records it: the send-backs (the first fix, 6 hours in, sent
    # back 2 hours later) and the verifications
    await conn.execute(
        """INSERT INTO rectification_reviews (org_id, order_id, review, property_id, verdict, submitted_at,
                                              reviewed_at, reviewed_by)
           SELECT org_id, id, 1, property_id, 'rejected', created_at + interval '6 hours',
                  created_at + interval '8 hours', verified_by
             FROM rectification_orders WHERE org_id = $1 AND property_id = $2 AND rejections > 0
           UNION ALL
           SELECT org_id, id, rejections + 1, property_id, 'verified', submitted_at, verified_at, verified_by
             FROM rectification_orders WHERE org_id = $1 AND property_id = $2 AND status = 'verified'""",
        org_id,
        property_id,
    )
    say("VACUUM ANALYZE (autovacuum's work, done now)")
    for table in (
        "rounds",
        "checkpoint_visits",
        "check_results",
        "rectification_orders",
        "rectification_reviews",
        "template_versions",
    ):
        await conn.execute(f"VACUUM ANALYZE {table}")


async def timed(
    queries: dict[str, Callable[[], Awaitable[Any]]], repeats: int, warmup: int = 6
) -> dict[str, list[float]]:
    """Seconds per call of each query, round-robin so that drift on a noisy machine hits all alike. The warm-up
    is past PostgreSQL's first five executions of a prepared statement, which are planned for their parameters;
    after that the plan cache may settle on a generic plan, as a pooled connection serving requests does."""
    for _ in range(warmup):
        for run in queries.values():
            await run()
    seen: dict[str, list[float]] = {name: [] for name in queries}
    for _ in range(repeats):
        for name, run in queries.items():
            start = time.perf_counter()
            await run()
            seen[name].append(time.perf_counter() - start)
    return seen


def describe() -> str:
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    return commit.stdout.strip()


async def run(days: int, repeats: int) -> tuple[list[Result], str]:
    async with scratch_database() as url:
        conn = await connect(url)
        try:
            say("building the org, the property and its staff")
            caller, property_id, staff = await build_world(conn)
            loaded = time.perf_counter()
            await load_year(conn, caller.org_id, property_id, staff, days)
            load_s = time.perf_counter() - loaded
            counts = {
                t: await conn.fetchval(f"SELECT count(*) FROM {t}")
                for t in ("rounds", "checkpoint_visits", "check_results", "rectification_orders")
            }
            last = FIRST_DAY + timedelta(days=days - 1)
            now = datetime(last.year, last.month, last.day, 4, tzinfo=UTC)  # noon of the last day in Shanghai
            period = kpis.resolve_period(FIRST_DAY, last, "Asia/Shanghai", now)
            span = (caller.org_id, property_id, period.start_utc, period.end_utc)
            check = await kpis.property_kpis(conn, caller, property_id, FIRST_DAY, last, now)
            if check.totals.items.judged != counts["check_results"]:
                raise RuntimeError(f"the KPIs saw {check.totals.items.judged} results of {counts['check_results']}")
            baseline_count = await conn.fetchval(BASELINE, *span)
            month = kpis.resolve_period(None, None, "Asia/Shanghai", now)
            month_span = (caller.org_id, property_id, month.start_utc, month.end_utc)
            queries: dict[str, Callable[[], Awaitable[Any]]] = {
                "baseline": lambda: conn.fetchval(BASELINE, *span),
                "baseline, 30 days": lambda: conn.fetchval(BASELINE, *month_span),
                "rounds (totals + by staff)": lambda: sql.round_figures(conn, *span, now),
                "visits (totals + by staff)": lambda: sql.visit_figures(conn, *span),
                "results (totals, staff, item, location)": lambda: sql.item_figures(conn, *span),
                "orders (totals + by staff)": lambda: sql.order_figures(conn, *span, now),
                "reviews (totals + by reviewer)": lambda: sql.review_figures(conn, *span, now),
                USE_CASE: lambda: kpis.property_kpis(conn, caller, property_id, FIRST_DAY, last, now),
                # what the endpoint answers by default: the last 30 local days
                USE_CASE_30: lambda: kpis.property_kpis(conn, caller, property_id, None, None, now),
                "GET /kpis statement (org totals)": lambda: sql.property_totals(
                    conn, caller.org_id, [property_id], [period.start_utc], [period.end_utc], now
                ),
            }
            say(f"timing {len(queries)} queries × {repeats}, round-robin, after 6 warm-up rounds")
            seen = await timed(queries, repeats)
            postgres = await conn.fetchval("SHOW server_version")
            jit = await conn.fetchval("SHOW jit")
        finally:
            await conn.close()
    year_base, month_base = median(seen.pop("baseline")), median(seen.pop("baseline, 30 days"))
    results = []
    for name, times in seen.items():
        p50, p95 = median(times), percentile(times, 95)
        # the target is per statement; the use case runs all of them, and is shown for what a request costs
        statement = name not in (USE_CASE, USE_CASE_30)
        base, days_counted = (month_base, 30) if name == USE_CASE_30 else (year_base, days)
        results.append(
            Result(
                name,
                f"{p50 * 1000:.1f} ms (p95 {p95 * 1000:.1f})",
                f"{base * 1000:.1f} ms (count of {days_counted} days' results)",
                f"{p50 / base:.1f}×",
                f"p95 < {TARGET_MS:.0f} ms" if statement else "—",
                p95 * 1000 < TARGET_MS if statement else None,
            )
        )
    orders, reviews = check.totals.rectification, check.totals.reviews
    notes = [
        f"fieldwork {describe()}, Python {platform.python_version()}, PostgreSQL {postgres} (jit={jit}), "
        f"{os.cpu_count()} CPUs",
        f"{days} days {FIRST_DAY} to {last}: {counts['rounds']:,} rounds, {counts['checkpoint_visits']:,} visits, "
        f"{counts['check_results']:,} results ({check.totals.items.failed:,} failed), "
        f"{counts['rectification_orders']:,} orders; loaded in {load_s:.1f} s; the baseline counts "
        f"{baseline_count:,} rows",
        f"orders opened {orders.opened:,}, due {orders.due:,}: {orders.due_on_time:,} handed in on time, "
        f"{orders.due_handed_in_late:,} late, {orders.due_not_handed_in:,} not handed in "
        f"(on-time rate {orders.on_time_rate or 0:.3f}); {orders.reopened:,} sent back once; mean "
        f"{orders.mean_hours_to_fix or 0:.1f} h to fix; {orders.open:,} open, up to "
        f"{orders.max_open_age_hours or 0:.0f} h old; {reviews.reviews:,} verdicts ({reviews.rejected:,} send-backs), "
        f"mean {reviews.mean_review_hours or 0:.1f} h, {reviews.mean_hours_to_verify or 0:.1f} h to verify",
        f"median and p95 (nearest rank) of {repeats} calls each, interleaved, after 6 warm-up calls of each",
    ]
    return results, "\n".join(f"- {note}" for note in notes)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kpi", description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365, help="days of work to load (default 365)")
    parser.add_argument("--repeats", type=int, default=30, help="timed calls of each query (default 30)")
    args = parser.parse_args()
    results, notes = asyncio.run(run(args.days, args.repeats))
    return print_results(results, notes, "bench.kpi")


if __name__ == "__main__":
    sys.exit(main())
