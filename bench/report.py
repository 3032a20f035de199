"""The property report's job (reports/service.py `make`: the figures, the PDF, storing it) for a month and for a
quarter of the KPI benchmark's year, against the period's `GET /properties/{id}/kpis` use case in the same run.

    .venv/bin/python -m bench.report [--days N] [--repeats N]

The year is bench/kpi.py's (`build_world`, `load_year`: 24 rounds a day of a 20-checkpoint route, 175,200 visits
and results). The report of December and of the fourth quarter are made `--repeats` times each, each a new version
as a regeneration makes it, interleaved with the KPI use case over the same local days (the baseline: one call of
the 14 or more the report makes). The figures alone (`gather_report`) and the PDF alone (`render_pdf`) are timed
too, to show where the time goes. Informative: no target (a worker's job may take seconds), but the job should
stay within a few times the KPI calls it is made of.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._support import Result, median, percentile, print_results, say, scratch_database
from bench.kpi import FIRST_DAY, build_world, describe, load_year
from bootstrap.domains import registry
from core.clock import FixedClock
from core.db import connect, create_pool
from inspections import kpis
from reports import service
from reports.figures import gather_report
from reports.pdf import render_pdf
from reports.periods import ReportPeriod, parse_period, quarter_label
from sync.photos.storage import BlobStore


async def timed(queries: dict[str, Callable[[], Awaitable[Any]]], repeats: int) -> dict[str, list[float]]:
    """Seconds per call, round-robin after one warm-up call of each."""
    for run in queries.values():
        await run()
    seen: dict[str, list[float]] = {name: [] for name in queries}
    for _ in range(repeats):
        for name, run in queries.items():
            start = time.perf_counter()
            await run()
            seen[name].append(time.perf_counter() - start)
    return seen


async def run(days: int, repeats: int) -> tuple[list[Result], str]:
    domains = {p.name for p in registry().plugins}
    async with scratch_database() as url:
        conn = await connect(url)
        pool = await create_pool(url, size=4)
        try:
            say("building the org, the property and its staff")
            caller, property_id, staff = await build_world(conn)
            await load_year(conn, caller.org_id, property_id, staff, days)
            last = FIRST_DAY + timedelta(days=days - 1)
            clock = FixedClock(datetime(last.year, last.month, last.day, 4, tzinfo=UTC))  # noon, the last day
            month = parse_period(f"{last.year:04d}-{last.month:02d}")
            quarter = parse_period(quarter_label(last))
            store = BlobStore.local(Path(tempfile.mkdtemp(prefix="fieldwork-bench-report-")))
            sizes: dict[str, int] = {}

            def job(period: ReportPeriod) -> Callable[[], Awaitable[Any]]:
                async def make() -> None:
                    async with pool.acquire() as c:
                        asked = await service.ask(
                            c, caller, property_id, period.label, clock.now(), domains, again=True
                        )
                    done = await service.make(pool, store, clock, domains, caller.org_id, asked.report.id)
                    assert done == "done", done
                    sizes[period.label] = await conn.fetchval(
                        "SELECT size_bytes FROM reports WHERE id = $1", asked.report.id
                    )

                return make

            def use_case(period: ReportPeriod) -> Callable[[], Awaitable[Any]]:
                return lambda: kpis.property_kpis(conn, caller, property_id, period.first, period.last, clock.now())

            def figures(period: ReportPeriod) -> Callable[[], Awaitable[Any]]:
                return lambda: gather_report(conn, caller, property_id, period, clock.now(), domains)

            report = await gather_report(conn, caller, property_id, quarter, clock.now(), domains)
            queries = {
                f"job, month {month.label}": job(month),
                f"KPI use case, month {month.label}": use_case(month),
                f"figures only, month {month.label}": figures(month),
                f"job, quarter {quarter.label}": job(quarter),
                f"KPI use case, quarter {quarter.label}": use_case(quarter),
                f"figures only, quarter {quarter.label}": figures(quarter),
                "PDF only (render_pdf, a quarter's figures)": lambda: asyncio.to_thread(render_pdf, report),
            }
            say(f"timing {len(queries)} runs × {repeats}, round-robin, after one warm-up run of each")
            seen = await timed(queries, repeats)
            results_count = await conn.fetchval("SELECT count(*) FROM check_results")
        finally:
            await pool.close()
            await conn.close()
    results = []
    for label in (month.label, quarter.label):
        kind = "month" if label == month.label else "quarter"
        base = median(seen[f"KPI use case, {kind} {label}"])
        for name in (f"job, {kind} {label}", f"figures only, {kind} {label}"):
            times = seen[name]
            results.append(
                Result(
                    name,
                    f"{median(times) * 1000:.0f} ms (p95 {percentile(times, 95) * 1000:.0f})",
                    f"{base * 1000:.1f} ms (KPI use case, {label})",
                    f"{median(times) / base:.1f}×",
                    "—",
                    None,
                )
            )
    pdf_times = seen["PDF only (render_pdf, a quarter's figures)"]
    results.append(
        Result(
            "PDF only (render_pdf, a quarter's figures)",
            f"{median(pdf_times) * 1000:.0f} ms (p95 {percentile(pdf_times, 95) * 1000:.0f})",
            "—",
            "—",
            "—",
            None,
        )
    )
    notes = [
        f"fieldwork {describe()}; {days} days from {FIRST_DAY} ({results_count:,} results); the job: the period's "
        "KPIs, the period before, 12 trend months (one KPI use case call each), the ledger, the last survey, the "
        "service desk, the PDF, stored in a local directory",
        f"PDF sizes: {', '.join(f'{k} {v / 1024:.0f} KB' for k, v in sizes.items())}",
        f"median and p95 (nearest rank) of {repeats} runs each, interleaved, after one warm-up run of each",
    ]
    return results, "\n".join(f"- {note}" for note in notes)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365, help="days of work to load (default 365)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each (default 5)")
    args = parser.parse_args()
    results, notes = asyncio.run(run(args.days, args.repeats))
    return print_results(results, notes, "bench.report")


if __name__ == "__main__":
    sys.exit(main())
