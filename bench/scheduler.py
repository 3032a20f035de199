"""Schedules: materialising a year of occurrences for many properties, and the cost of a tick with nothing due.

    .venv/bin/python -m bench.scheduler [--properties N] [--repeats N]

1,000 properties (half Asia/Shanghai, half America/New_York, so DST is in the mix) with 20 schedules each: 4
daily, 6 weekly, 6 monthly (some on the 31st), 2 quarterly meetings and 2 semiannual campaigns, about 1,856
occurrences a property. Each schedule is materialised a year ahead by core.schedules.materialise (the worker's
code path: RRULE expansion, one transaction per schedule, the unique key per occurrence), recording only (the
makers of rounds and notices are left out: they are the domain's cost). Baseline, in the same run: COPY of the
same rows into a copy of the table, one COPY per schedule, in a transaction each.
The idle tick is the worker's query for schedules that are due, with everything materialised, against a
`SELECT 1` round trip on the same connection.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

from bench._support import ROOT, Result, markdown_table, median, percentile, say, scratch_database, text_table
from core.db import connect
from core.schedules import service
from core.schedules.kinds import Making
from core.schedules.materialise import CUSTOM, due, materialise
from core.schedules.models import Made, Schedule

NOW = datetime(2027, 1, 1, tzinfo=UTC)
HORIZON = timedelta(days=365)
MIX = [
    *[("FREQ=DAILY", 9 + i, 120, 1) for i in range(4)],
    *[("FREQ=WEEKLY;BYDAY=MO,TH", 14, 60, 1 + i) for i in range(3)],
    *[("FREQ=WEEKLY", 20, 60, 2 + i) for i in range(3)],
    *[("FREQ=MONTHLY", 10, 240, 31 if i % 2 else 15) for i in range(6)],
    *[("FREQ=MONTHLY;INTERVAL=3", 19, 120, 20) for _ in range(2)],
    *[("FREQ=MONTHLY;INTERVAL=6", 9, 14 * 24 * 60, 1) for _ in range(2)],
]


async def load(conn: asyncpg.Connection, properties: int) -> str:
    org_id = "bench-org"
    await conn.execute("INSERT INTO orgs (org_id, name, slug) VALUES ($1, 'Bench', 'bench')", org_id)
    await conn.execute(
        """INSERT INTO properties (org_id, id, name, timezone)
           SELECT $1, 'p' || n, 'Property ' || n,
                  CASE WHEN n % 2 = 0 THEN 'Asia/Shanghai' ELSE 'America/New_York' END
           FROM generate_series(1, $2::int) AS n""",
        org_id,
        properties,
    )
    rows = []
    for p in range(1, properties + 1):
        for i, (rule, hour, minutes, day) in enumerate(MIX):
            start = datetime(2027, 1, day, hour % 24, 0)
            rows.append((org_id, f"s{p}-{i}", f"p{p}", "custom", f"schedule {i}", rule, start, minutes))
    await conn.executemany(
        """INSERT INTO schedules (org_id, id, property_id, kind, name, rrule, dtstart_local, duration_minutes,
               payload, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '{}', $9)""",
        [(*row, NOW - timedelta(hours=1)) for row in rows],
    )
    return org_id


async def record_only(conn: asyncpg.Connection, schedule: Schedule, made: Made, making: Making) -> None:
    """Occurrences are recorded, nothing is made: the figure is the scheduler's own work."""


KINDS = {"custom": msgspec.structs.replace(CUSTOM, make=record_only)}


async def materialise_all(url: str) -> tuple[int, float]:
    conn = await connect(url)
    try:
        async with conn.transaction():
            todo = await service.due_schedules(conn, NOW, horizon=HORIZON)
        started = time.perf_counter()
        made = 0
        for schedule in todo:
            async with conn.transaction():
                tally = await materialise(conn, schedule, NOW, HORIZON, KINDS, "bench-secret")
            made += tally.created + tally.missed
        return made, time.perf_counter() - started
    finally:
        await conn.close()


async def copy_baseline(url: str) -> tuple[int, float]:
    conn = await connect(url)
    try:
        await conn.execute("CREATE TABLE occurrences_copy (LIKE schedule_occurrences INCLUDING ALL)")
        rows = await conn.fetch(
            "SELECT org_id, schedule_id, starts_at, ends_at, status, created_at FROM schedule_occurrences "
            "ORDER BY schedule_id, starts_at"
        )
        by_schedule: dict[str, list[tuple[object, ...]]] = {}
        for row in rows:
            by_schedule.setdefault(row["schedule_id"], []).append(tuple(row))
        columns = ["org_id", "schedule_id", "starts_at", "ends_at", "status", "created_at"]
        started = time.perf_counter()
        for group in by_schedule.values():
            async with conn.transaction():
                await conn.copy_records_to_table("occurrences_copy", records=group, columns=columns)
        return len(rows), time.perf_counter() - started
    finally:
        await conn.close()


async def idle_ticks(url: str, repeats: int) -> tuple[list[float], list[float], int]:
    conn = await connect(url)
    try:
        tick, trip = [], []
        found = 0
        for _ in range(repeats):
            started = time.perf_counter()
            async with conn.transaction():
                found = len(await due(conn, NOW + timedelta(minutes=5), timedelta(days=14)))
            tick.append(time.perf_counter() - started)
            started = time.perf_counter()
            await conn.fetchval("SELECT 1")
            trip.append(time.perf_counter() - started)
        return tick, trip, found
    finally:
        await conn.close()


def describe() -> str:
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    return commit.stdout.strip()


async def run(properties: int, repeats: int) -> tuple[list[Result], str]:
    async with scratch_database() as url:
        conn = await connect(url)
        try:
            say(f"{properties} properties × {len(MIX)} schedules")
            await load(conn, properties)
        finally:
            await conn.close()
        say("materialising a year of every schedule (the worker's code path)")
        made, seconds = await materialise_all(url)
        say(f"  {made:,} occurrences in {seconds:.1f} s; COPY baseline of the same rows")
        copied, copy_seconds = await copy_baseline(url)
        say(f"  {copied:,} rows in {copy_seconds:.1f} s; idle ticks")
        tick, trip, found = await idle_ticks(url, repeats)
    rate, copy_rate = made / seconds, copied / copy_seconds
    results = [
        Result(
            "materialise a year (occurrences/s)",
            f"{rate:,.0f} occ/s ({seconds:.1f} s)",
            f"{copy_rate:,.0f} rows/s (COPY per schedule)",
            f"{rate / copy_rate:.2f}×",
            "—",
            None,
        ),
        Result(
            "cron tick, nothing due",
            f"{median(tick) * 1000:.2f} ms (p95 {percentile(tick, 95) * 1000:.2f})",
            f"{median(trip) * 1000:.2f} ms (SELECT 1)",
            f"{median(tick) / median(trip):.1f}×",
            "—",
            None,
        ),
    ]
    notes = [
        f"fieldwork {describe()}, Python {platform.python_version()}",
        f"{properties:,} properties × {len(MIX)} schedules = {properties * len(MIX):,} schedules; {made:,} "
        f"occurrences in a year; the idle tick found {found} due; {repeats} ticks",
    ]
    return results, "\n".join(f"- {note}" for note in notes)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scheduler", description=__doc__.split("\n\n")[0])
    parser.add_argument("--properties", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    results, notes = asyncio.run(run(args.properties, args.repeats))
    print(text_table(results))
    print(f"\n{notes}\n")
    print(markdown_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
