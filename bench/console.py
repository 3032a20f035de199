"""Console pages: each page of the console over a year of one property, against GET /health in the same run.

    .venv/bin/python -m bench.console [--repeats N] [--pages board,kpis-year,...]

Loads bench/kpi.py's year (its `build_world` and `load_year`: 8,760 rounds, 175,200 visits and results, 5,370
orders), ending today so that the board and the default period have work in them; adds a supervisor of the
property; starts `python -m cli serve` (bench/_support.py); signs the supervisor in through /console/sign-in as a
browser does; then requests each page of PAGES and GET /health round-robin (`--repeats` rounds, after a warm-up),
and prints p50 and p95 of each, their ratio to /health's, and each page's size (as sent gzipped, and unzipped)
against the issue's limits: p95 < 150 ms, under 300 KB.

Every console page that reads is in PAGES by name; bench/surveys.py's two campaigns of 2,000 households (an org of
their own, whose admin signs in too) give the survey report and its households. Another page joins by name: add
an entry to PAGES (its address given the property, today's date and an order).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import platform
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from bench import surveys as surveys_bench
from bench._support import Result, fieldwork_server, median, percentile, print_results, say, scratch_database
from bench.kpi import PASSWORD, build_world, describe, load_year
from core.access import Caller
from core.db import connect
from core.people import service as people
from core.people.schemas import UserCreate

TARGET_MS = 150.0
LIMIT_KB = 300
ZONE = ZoneInfo("Asia/Shanghai")  # bench/kpi.py's property
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Accept-Encoding": "gzip"}
SUPERVISOR = "supervisor@bench.test"
SURVEY_ADMIN = "admin@surveys.bench.test"


@dataclass(frozen=True)
class Place:
    property_id: str
    today: date
    order_id: str  # an order of the property (one awaiting a verdict when there is one)

    @property
    def home(self) -> str:
        return f"/console/properties/{self.property_id}"

    def year(self) -> str:
        """The KPI form's "last 12 months" preset: from the first of the month a year ago to today."""
        first = (self.today.replace(day=1).replace(year=self.today.year - 1) + timedelta(days=32)).replace(day=1)
        return f"from={first.isoformat()}&to={self.today.isoformat()}"


# name (no commas: --pages lists them) -> the page's address
PAGES: dict[str, Callable[[Place], str]] = {
    "properties": lambda p: "/console",
    "board": lambda p: p.home,
    "board-fragment": lambda p: f"{p.home}?part=figures",
    "kpis-30-days": lambda p: f"{p.home}/kpis",
    "kpis-12-months": lambda p: f"{p.home}/kpis?{p.year()}",
    "kpis-12-months-sorted": lambda p: f"{p.home}/kpis?{p.year()}&sort=pass&dir=desc",
    "rounds-missed-12-months": lambda p: f"{p.home}/rounds?status=missed&{p.year()}",
    "orders-due-not-handed-in-12-months": (lambda p: f"{p.home}/kpis/orders?figure=due_not_handed_in&{p.year()}"),
    "review-queue": lambda p: f"{p.home}/review",
    "order": lambda p: f"/console/orders/{p.order_id}",
    "surveys": lambda p: f"{p.home}/surveys",
    "reports": lambda p: f"{p.home}/reports",
    "setup": lambda p: f"{p.home}/setup",
    "setup-checkpoints": lambda p: f"{p.home}/setup/checkpoints",
    "setup-routes": lambda p: f"{p.home}/setup/routes",
    "setup-schedules": lambda p: f"{p.home}/setup/schedules",
    "setup-people": lambda p: f"{p.home}/setup/people",
    "people": lambda p: "/console/people",
    # a survey campaign of 2,000 households answered (bench/surveys.py's, its own org: its admin signs in)
    "campaign-report": lambda p: f"/console/campaigns/{CAMPAIGN}",
    "campaign-households": lambda p: f"/console/campaigns/{CAMPAIGN}/households?building={BUILDING}",
}
# the pages of bench/surveys.py's org, seen by its admin
SURVEY_ORG = {"campaign-report", "campaign-households"}
CAMPAIGN, BUILDING, UNITS_PER_BUILDING = "current", "b01", 100

# the API's answers the pages are made of, timed in the same run for reference (no target of their own here)
API: dict[str, Callable[[Place], str]] = {
    "API GET /properties/{id}/kpis, 12 months": lambda p: f"/properties/{p.property_id}/kpis?{p.year()}",
}


async def prepare(url: str, today: date) -> tuple[str, str]:
    """The year up to today, and a supervisor of its property; bench/surveys.py's two campaigns in an org of
    their own, with an admin; returns the property's id and an order's."""
    conn = await connect(url)
    raw = await asyncpg.connect(url)
    try:
        await surveys_bench.load(conn, raw, UNITS_PER_BUILDING)
        survey_admin = Caller(org_id=surveys_bench.ORG, user_id="bench-admin", role="admin", session_id="bench")
        await people.create_user(
            conn,
            survey_admin,
            UserCreate(name="管理员 Admin", role="admin", email=SURVEY_ADMIN, password=PASSWORD),
        )
        caller, property_id, staff = await build_world(conn)
        supervisor = await people.create_user(
            conn, caller, UserCreate(name="主管 Supervisor", role="supervisor", email=SUPERVISOR, password=PASSWORD)
        )
        await people.assign_staff(conn, caller, property_id, supervisor.id)
        started = time.perf_counter()
        await load_year(conn, caller.org_id, property_id, staff, 365, first_day=today - timedelta(days=364))
        say(f"loaded a year in {time.perf_counter() - started:.1f} s")
        order_id = await conn.fetchval(
            """SELECT id FROM rectification_orders WHERE property_id = $1
                ORDER BY status = 'submitted' DESC, created_at DESC LIMIT 1""",
            property_id,
        )
    finally:
        await conn.close()
        await raw.close()
    return property_id, order_id


async def sign_in(client: httpx.AsyncClient, login: str = SUPERVISOR) -> None:
    form = (await client.get("/console/sign-in", headers=BROWSER)).text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form)
    assert token, "the sign-in page has no CSRF token"
    data = {"login": login, "password": PASSWORD, "_csrf_token": token.group(1)}
    answer = await client.post("/console/sign-in", data=data, headers=BROWSER)
    assert answer.status_code == 303, (answer.status_code, answer.text[-500:])


async def fetch(client: httpx.AsyncClient, path: str, headers: dict[str, str] = BROWSER) -> tuple[float, bytes]:
    """Seconds to the last byte, and the body as sent (gzipped)."""
    started = time.perf_counter()
    async with client.stream("GET", path, headers=headers) as answer:
        body = b"".join([chunk async for chunk in answer.aiter_raw()])
    took = time.perf_counter() - started
    assert answer.status_code == 200, (path, answer.status_code, body[:300])
    return took, body


async def run(repeats: int, chosen: list[str]) -> tuple[list[Result], str]:
    today = datetime.now(UTC).astimezone(ZONE).date()
    async with scratch_database() as url:
        property_id, order_id = await prepare(url, today)
        place = Place(property_id, today, order_id)
        paths = {name: PAGES[name](place) for name in chosen}
        with tempfile.TemporaryDirectory() as home, fieldwork_server(url, Path(home)) as server:
            async with (
                httpx.AsyncClient(base_url=server.url, timeout=60) as supervisor,
                httpx.AsyncClient(base_url=server.url, timeout=60) as survey_admin,
            ):
                await sign_in(supervisor)
                await sign_in(survey_admin, SURVEY_ADMIN)
                client = supervisor
                by = {name: survey_admin if name in SURVEY_ORG else supervisor for name in paths}
                login = {"login": SUPERVISOR, "password": PASSWORD}
                token = (await client.post("/auth/login", json=login)).json()["access_token"]
                bearer = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
                api = {name: make(place) for name, make in API.items()}
                sizes = {}
                for name, path in paths.items():
                    _, body = await fetch(by[name], path)
                    sizes[name] = (len(body), len(gzip.decompress(body)) if body[:2] == b"\x1f\x8b" else len(body))
                for _ in range(10):  # warm-up, past the plan cache's five custom plans
                    await client.get("/health")
                    for name, path in paths.items():
                        await fetch(by[name], path)
                    for path in api.values():
                        await fetch(client, path, bearer)
                seen: dict[str, list[float]] = {"/health": [], **{name: [] for name in [*paths, *api]}}
                say(f"timing {len(paths)} pages and /health × {repeats}, round-robin")
                for _ in range(repeats):
                    started = time.perf_counter()
                    health = await client.get("/health")
                    seen["/health"].append(time.perf_counter() - started)
                    assert health.status_code == 200
                    for name, path in paths.items():
                        seen[name].append((await fetch(by[name], path))[0])
                    for name, path in api.items():
                        seen[name].append((await fetch(client, path, bearer))[0])
    health_p50, health_p95 = median(seen["/health"]), percentile(seen["/health"], 95)
    results = [Result("GET /health", f"{health_p50 * 1000:.1f} ms (p95 {health_p95 * 1000:.1f})", "—", "1×", "—", None)]
    for name in paths:
        p50, p95 = median(seen[name]), percentile(seen[name], 95)
        sent, unzipped = sizes[name]
        results.append(
            Result(
                name,
                f"{p50 * 1000:.1f} ms (p95 {p95 * 1000:.1f}); {sent / 1024:.1f} KB gzip, {unzipped / 1024:.1f} KB",
                f"{health_p50 * 1000:.1f} ms (p95 {health_p95 * 1000:.1f})",
                f"{p95 / health_p95:.1f}× (p95)",
                f"p95 < {TARGET_MS:.0f} ms, < {LIMIT_KB} KB",
                p95 * 1000 < TARGET_MS and unzipped < LIMIT_KB * 1024,
            )
        )
    for name in api:
        p50, p95 = median(seen[name]), percentile(seen[name], 95)
        health = f"{health_p50 * 1000:.1f} ms (p95 {health_p95 * 1000:.1f})"
        ratio = f"{p95 / health_p95:.1f}× (p95)"
        results.append(Result(name, f"{p50 * 1000:.1f} ms (p95 {p95 * 1000:.1f})", health, ratio, "—", None))
    notes = "\n".join(
        f"- {note}"
        for note in (
            f"fieldwork {describe()}, Python {platform.python_version()}, {platform.node()}",
            f"a year of one property (bench/kpi.py's data) to {today}; signed in as its supervisor; the campaign "
            "pages: bench/surveys.py's 2,000 households answered, signed in as that org's admin",
            f"{repeats} requests of each page and of /health, one keep-alive connection, round-robin, after 10 "
            "warm-up rounds; time to the last byte at the client (an upper bound of the server's time)",
            "size: the page as sent (gzip) and unzipped, without photos",
        )
    )
    return results, notes


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=200, help="timed requests of each page (default 200)")
    parser.add_argument("--pages", default=",".join(PAGES), help=f"which, by name, comma-separated: {', '.join(PAGES)}")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.pages.split(",") if name.strip()]
    if unknown := [name for name in chosen if name not in PAGES]:
        parser.error(f"no such page: {', '.join(unknown)}")
    results, notes = asyncio.run(run(args.repeats, chosen))
    return print_results(results, notes, "bench.console")


if __name__ == "__main__":
    sys.exit(main())
