"""Service desk: the KPI statements over a year of one property's tickets, the ledger export of a month, and the push
of filed tickets against the push of handover notes, in one run.

    .venv/bin/python -m bench.service_desk [--tickets N] [--repeats N] [--pushes N]

A property of 3,000 households (30 buildings × 100 units, Asia/Shanghai) with a year (2025) of tickets, made with a
seeded generator and written with COPY: about 60% repairs, 15% complaints, 12% enquiries, 8% suggestions, 5%
praise, over the six categories and the five channels; 4% declined; responses and resolutions mostly on time,
some late, a few still open and overdue; deadlines extended, disputes, return visits (some rated 1-2, which
reopen the ticket), confirmations by the owner, by staff and automatic; some closed by a supervisor without a
visit; every step a `ticket_events` row, as servicedesk/steps.py writes them.

1. Each KPI statement (servicedesk/repository/kpis.py) over the year and over the last 30 days, and the use case
   that answers GET /properties/{id}/service-desk/kpis, timed round-robin with the baseline: SELECT count(*) of the
   property's tickets received in the same range. The figures must read at least those rows (and their events);
   the count says what reading them costs on this machine, so the ratio is what the figures add. Target: each
   statement's p95 under 200 ms.
2. The ledger of one month (November), CSV (every chunk read) and XLSX, through servicedesk/ledger.py on a pool,
   against fetching the same rows with the ledger's own SQL (the database's part alone). Target: under 1 s.
3. `python -m cli serve` on the same database: a staff member of a second property pushes, alternately, 500
   handover notes (bench/sync.py's push, the baseline) and 500 filed tickets (servicedesk/synced.py's columns) per
   POST /sync/push. Target: tickets at ≥ 80% of the handover notes' rate (records/s, median push).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec

from bench._support import Result, fieldwork_server, median, percentile, print_results, say, scratch_database
from bench.kpi import describe, timed
from bench.sync import BATCH, JSON, PASSWORD, PHRASES, World, make_records, ratio_result
from core.access import Caller
from core.db import connect, create_pool
from core.people import service as people
from core.people.schemas import UserCreate
from core.periods import resolve_period
from core.places import service as places
from core.places.schemas import BuildingCreate, PropertyCreate
from servicedesk import kpis, ledger
from servicedesk.repository import kpis as sql
from servicedesk.repository.ledger import LEDGER_SQL

ZONE = "Asia/Shanghai"
FIRST_DAY, LAST_DAY = date(2025, 1, 1), date(2025, 12, 31)
NOW = datetime(2025, 12, 31, 4, tzinfo=UTC)  # noon of the last day in Shanghai
MONTH = (date(2025, 11, 1), date(2025, 11, 30))
BUILDINGS, UNITS_PER_BUILDING, STAFF = 30, 100, 12
TARGET_MS, LEDGER_TARGET_S, PUSH_TARGET = 200.0, 1.0, 0.8

KINDS = {"repair": 60, "complaint": 15, "enquiry": 12, "suggestion": 8, "praise": 5}
CATEGORIES = {
    "repair": {"engineering": 80, "greening": 5, "safety": 5, "cleaning": 5, "other": 5},
    "complaint": {"cleaning": 30, "patrol": 25, "engineering": 20, "greening": 10, "safety": 10, "other": 5},
}
ANY_CATEGORY = {"cleaning": 20, "patrol": 15, "engineering": 25, "greening": 15, "safety": 10, "other": 15}
CHANNELS = {"app": 45, "hotline": 20, "front_desk": 15, "web": 10, "round": 10}
# minutes promised to respond and to resolve, by kind
PROMISES = {"repair": (30, 24 * 60), "complaint": (120, 48 * 60)}
OTHER_PROMISE = (240, 72 * 60)
RATINGS = {5: 50, 4: 30, 3: 12, 2: 5, 1: 3}
PLACES = ("地库B2", "东门岗亭", "中心花园", "3号电梯厅", "游泳池", "垃圾房")

TICKET_COLUMNS = (
    "org_id id property_id kind category channel unit_id building_id location reported_by caller_name caller_phone "
    "description status decline_reason accepted_at accepted_by responsible_id assigned_at respond_due_at "
    "respond_due_original resolve_due_at resolve_due_original responded_at responded_by resolved_at resolved_by "
    "confirmed_at confirmed_via reopens visit_due_at visited_at visited_by visit_channel visit_rating closed_at "
    "created_at received_at"
).split()
EVENT_COLUMNS = (
    "org_id id ticket_id property_id action rating actor_id status_before status_after outcome public created_at"
).split()


def pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), list(weights.values()))[0]


@dataclass
class Desk:
    """The world the tickets are made in."""

    org_id: str
    property_id: str
    units: list[tuple[str, str]]  # (unit id, building id)
    staff: list[str]
    supervisor: str
    owner_of: dict[str, str] = field(default_factory=dict)


class Ticket:
    """One ticket as the lifecycle leaves it, step by step, with its events; stops at NOW."""

    def __init__(self, desk: Desk, number: int, received: datetime, rng: random.Random) -> None:
        self.rng, self.desk = rng, desk
        self.id = f"tk{number:06d}"
        kind = pick(rng, KINDS)
        unit = rng.choice(desk.units) if rng.random() < 0.85 else None
        channel = pick(rng, CHANNELS)
        staff_filed = channel in ("front_desk", "hotline", "round")
        self.row: dict[str, Any] = dict.fromkeys(TICKET_COLUMNS)
        self.row |= {
            "org_id": desk.org_id,
            "id": self.id,
            "property_id": desk.property_id,
            "kind": kind,
            "category": pick(rng, CATEGORIES.get(kind, ANY_CATEGORY)),
            "channel": channel,
            "unit_id": unit[0] if unit else None,
            "building_id": unit[1] if unit else None,
            "location": None if unit else rng.choice(PLACES),
            "reported_by": desk.staff[0] if staff_filed else f"owner-{unit[0] if unit else 'guest'}",
            "caller_name": "王先生" if channel == "hotline" else None,
            "caller_phone": "13800138000" if channel == "hotline" else None,
            "description": "，".join(rng.sample(PHRASES, 3)),
            "status": "received",
            "reopens": 0,
            "created_at": received,
            "received_at": received,
        }
        self.events: list[tuple[Any, ...]] = []
        self.at = received
        self.step("file", received, "received")

    def step(self, action: str, at: datetime, after: str | None = None, rating: int | None = None) -> bool:
        """Take a step at `at` (False, and nothing done, when that is after NOW)."""
        if at > NOW:
            return False
        before = self.row["status"]
        after = after or before
        actor = self.row["responsible_id"] or self.desk.supervisor
        self.events.append(
            (self.desk.org_id, f"{self.id}-{len(self.events)}", self.id, self.desk.property_id, action, rating,
             actor, before, after, "applied", True, at)
        )  # fmt: skip
        self.row["status"], self.at = after, at
        return True

    def hours(self, low: float, high: float) -> timedelta:
        return timedelta(hours=self.rng.uniform(low, high))

    def live(self) -> None:
        rng, row, received = self.rng, self.row, self.at
        if rng.random() < 0.04:
            if self.step("decline", received + timedelta(minutes=20), "declined"):
                row |= {"decline_reason": "重复报事 duplicate", "closed_at": self.at}
            return
        respond, resolve = PROMISES.get(row["kind"], OTHER_PROMISE)
        respond_due, resolve_due = received + timedelta(minutes=respond), received + timedelta(minutes=resolve)
        if not self.step("accept", received + timedelta(minutes=5), "accepted"):
            return
        row |= {"accepted_at": self.at, "accepted_by": self.desk.supervisor, "respond_due_at": respond_due,
                "respond_due_original": respond_due, "resolve_due_at": resolve_due,
                "resolve_due_original": resolve_due}  # fmt: skip
        row["responsible_id"] = rng.choice(self.desk.staff)
        if not self.step("assign", received + timedelta(minutes=8), "assigned"):
            return
        row["assigned_at"] = self.at
        late = rng.random() < 0.15
        answered = received + timedelta(minutes=respond * (rng.uniform(1.1, 4) if late else rng.uniform(0.3, 0.95)))
        if not self.step("respond", answered, "responded"):
            return
        row |= {"responded_at": self.at, "responded_by": row["responsible_id"]}
        if rng.random() < 0.05 and self.step("extend", self.at + timedelta(minutes=10)):
            row["resolve_due_at"] = resolve_due + timedelta(hours=48)
        if rng.random() < 0.03:  # never resolved: open, and overdue once its deadline passes
            return
        late = rng.random() < 0.15
        fixed = received + timedelta(minutes=resolve * (rng.uniform(1.05, 3) if late else rng.uniform(0.1, 0.9)))
        if not self.resolve(max(fixed, self.at + timedelta(minutes=5))):
            return
        if rng.random() < 0.03:  # the owner disputes it: back to work, resolved again a day later
            if not self.step("dispute", self.at + self.hours(2, 12), "assigned"):
                return
            row["reopens"] += 1
            if not self.resolve(self.at + self.hours(12, 36)):
                return
        self.settle()

    def resolve(self, at: datetime) -> bool:
        if not self.step("resolve", at, "resolved"):
            return False
        self.row |= {"resolved_at": at, "resolved_by": self.row["responsible_id"], "confirmed_at": None,
                     "confirmed_via": None, "visit_due_at": at + timedelta(days=3)}  # fmt: skip
        return True

    def settle(self) -> None:
        """Confirmation, then the return visit or a supervisor's close."""
        rng, row = self.rng, self.row
        via = pick(rng, {"owner": 50, "staff": 15, "auto": 35})
        wait = timedelta(hours=72) if via == "auto" else self.hours(1, 48)
        if not self.step("confirm", self.at + wait, "confirmed"):
            return
        row |= {"confirmed_at": self.at, "confirmed_via": via}
        if rng.random() < 0.75:
            rating = pick(rng, RATINGS)
            low = rating <= 2
            if not self.step("visit", self.at + self.hours(12, 72), "assigned" if low else "closed", rating):
                return
            row |= {"visited_at": self.at, "visited_by": self.desk.supervisor, "visit_channel": "phone",
                    "visit_rating": rating, "visit_due_at": None}  # fmt: skip
            if not low:
                row["closed_at"] = self.at
                return
            row["reopens"] += 1
            if self.resolve(self.at + self.hours(12, 36)):
                self.settle()
        elif rng.random() < 0.4 and self.step("close", self.at + timedelta(days=5), "closed"):
            row["closed_at"] = self.at


async def build_desk(conn: asyncpg.Connection) -> tuple[Caller, Desk, World]:
    """An org, the property with its 3,000 units and staff, and a second property whose staff member pushes."""
    async with conn.transaction():
        org_id, admin = await people.create_org(
            conn, name="Bench", admin_name="Admin", admin_email="admin@bench.test", admin_password=PASSWORD
        )
        caller = Caller(org_id=org_id, user_id=admin.id, role="admin", session_id="bench")
        prop = await places.create_property(conn, caller, PropertyCreate(name="Garden", timezone=ZONE))
        tower = await places.create_property(conn, caller, PropertyCreate(name="Tower", timezone=ZONE))
        building_ids = [
            (await places.create_building(conn, caller, prop.id, BuildingCreate(name=f"{b + 1}号楼"))).id
            for b in range(BUILDINGS)
        ]
        tower_building = await places.create_building(conn, caller, tower.id, BuildingCreate(name="A座"))
        units = [
            (f"u{b:02d}{n:03d}", building, prop.id, f"{1 + n // 4:02d}0{1 + n % 4}")
            for b, building in enumerate(building_ids)
            for n in range(UNITS_PER_BUILDING)
        ]
        units += [(f"t{n:03d}", tower_building.id, tower.id, f"{1 + n // 4:02d}0{1 + n % 4}") for n in range(100)]
        await conn.copy_records_to_table(
            "units",
            records=[(org_id, *u) for u in units],
            columns=("org_id", "id", "building_id", "property_id", "number"),
        )
        staff = []
        for i in range(STAFF + 2):
            role = "supervisor" if i == STAFF else "staff"
            user = await people.create_user(
                conn,
                caller,
                UserCreate(name=f"{role} {i + 1}", role=role, email=f"u{i + 1}@bench.test", password=PASSWORD),
            )
            # the last one works at the Tower: the pusher, whose first pull is not the Garden's year
            await people.assign_staff(conn, caller, tower.id if i == STAFF + 1 else prop.id, user.id)
            staff.append(user.id)
    desk = Desk(
        org_id=org_id,
        property_id=prop.id,
        units=[(u[0], u[1]) for u in units if u[2] == prop.id],
        staff=staff[:STAFF],
        supervisor=staff[STAFF],
    )
    pusher = World(org_id=org_id, property_id=tower.id, user_id=staff[-1], email=f"u{STAFF + 2}@bench.test")
    return caller, desk, pusher


async def load_year(conn: asyncpg.Connection, desk: Desk, n: int) -> tuple[int, int]:
    """`n` tickets received over the year (7:00-23:00 local, Shanghai keeps no summer time), their events; COPY."""
    rng = random.Random(20250101)
    start = datetime(FIRST_DAY.year, 1, 1, tzinfo=UTC) - timedelta(hours=8)
    days = (LAST_DAY - FIRST_DAY).days + 1
    received = sorted(start + timedelta(days=rng.randrange(days), hours=7 + rng.random() * 16) for _ in range(n))
    tickets, events = [], []
    for number, at in enumerate(r for r in received if r <= NOW):
        ticket = Ticket(desk, number, at, rng)
        ticket.live()
        tickets.append(tuple(ticket.row[c] for c in TICKET_COLUMNS))
        events += ticket.events
    say(f"COPY {len(tickets):,} tickets and {len(events):,} events")
    await conn.copy_records_to_table("tickets", records=tickets, columns=TICKET_COLUMNS)
    await conn.copy_records_to_table("ticket_events", records=events, columns=EVENT_COLUMNS)
    for table in ("tickets", "ticket_events", "units"):
        await conn.execute(f"VACUUM ANALYZE {table}")
    return len(tickets), len(events)


def ticket_records(world: World, units: list[str], count: int, seed: int) -> list[dict[str, Any]]:
    """Tickets as a front-desk phone files them (servicedesk/synced.py's columns), ids and texts like the notes'."""
    notes = make_records(count, world, seed)
    rng = random.Random(seed)
    return [
        {
            "id": note["id"],
            "property_id": world.property_id,
            "kind": pick(rng, KINDS),
            "category": pick(rng, ANY_CATEGORY),
            "channel": "front_desk",
            "unit_id": rng.choice(units),
            "location": None,
            "gps_lat": None,
            "gps_lon": None,
            "reported_by": world.user_id,
            "caller_name": "李女士",
            "caller_phone": "13900139000",
            "occurred_at": note["created_at"] - 3_600_000,
            "description": note["body"],
            "request": None,
            "created_at": note["created_at"],
        }
        for note in notes
    ]


async def push_once(api: httpx.AsyncClient, auth: dict[str, str], cursor: int, table: str, batch: list[Any]) -> float:
    body = msgspec.json.encode({table: {"created": [{**r, "_status": "created", "_changed": ""} for r in batch]}})
    headers = {**auth, **JSON, "Idempotency-Key": f"bench-{table}-{batch[0]['id']}"}
    start = time.perf_counter()
    response = await api.post("/sync/push", params={"last_pulled_at": str(cursor)}, content=body, headers=headers)
    took = time.perf_counter() - start
    answer = response.json() if response.status_code == 200 else {}
    if answer.get("applied", {}).get(table, {}).get("created") != len(batch) or answer["rejected"]:
        raise RuntimeError(f"push of {table} answered {response.status_code}: {response.text[:500]}")
    return took


async def pushes(url: str, world: World, units: list[str], rounds: int) -> tuple[list[float], list[float]]:
    """Seconds per push of 500 handover notes and of 500 tickets, alternating, `rounds` of each."""
    notes = make_records(BATCH * rounds, world, seed=7)
    tickets = ticket_records(world, units, BATCH * rounds, seed=8)
    with tempfile.TemporaryDirectory(prefix="fieldwork-bench-") as tmp, fieldwork_server(url, Path(tmp)) as ours:
        async with httpx.AsyncClient(base_url=ours.url, timeout=600) as api:
            login = await api.post("/auth/login", json={"login": world.email, "password": PASSWORD})
            login.raise_for_status()
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            first = (await api.get("/sync/pull", params={"last_pulled_at": "null"}, headers=auth)).json()
            cursor = first["timestamp"]
            note_s, ticket_s = [], []
            for k in range(rounds):
                batch = slice(k * BATCH, (k + 1) * BATCH)
                note_s.append(await push_once(api, auth, cursor, "handover_notes", notes[batch]))
                ticket_s.append(await push_once(api, auth, cursor, "tickets", tickets[batch]))
    return note_s, ticket_s


async def drain(chunks: Any) -> int:
    return sum([len(chunk) async for chunk in chunks])


def timing(name: str, times: list[float], base: float, base_name: str, target_ms: float | None) -> Result:
    p50, p95 = median(times), percentile(times, 95)
    return Result(
        name,
        f"{p50 * 1000:.1f} ms (p95 {p95 * 1000:.1f})",
        f"{base * 1000:.1f} ms ({base_name})",
        f"{p50 / base:.1f}×",
        "—" if target_ms is None else f"p95 < {target_ms:.0f} ms",
        None if target_ms is None else p95 * 1000 < target_ms,
    )


async def run(n: int, repeats: int, rounds: int) -> tuple[list[Result], str]:
    load_before = os.getloadavg()[0]  # the machine may be shared: the figures move with what else runs
    async with scratch_database() as url:
        conn = await connect(url)
        pool = await create_pool(url, size=2)
        try:
            say("building the org, 3,000 households and the staff")
            caller, desk, pusher = await build_desk(conn)
            loaded = time.perf_counter()
            count, event_count = await load_year(conn, desk, n)
            load_s = time.perf_counter() - loaded
            year = resolve_period(FIRST_DAY, LAST_DAY, ZONE, NOW)
            days30 = resolve_period(None, None, ZONE, NOW)
            month = resolve_period(*MONTH, ZONE, NOW)
            june = resolve_period(date(2025, 6, 1), date(2025, 6, 30), ZONE, NOW)
            org, prop = caller.org_id, desk.property_id
            check = await kpis.property_desk_kpis(conn, caller, prop, FIRST_DAY, LAST_DAY, NOW)
            if check.totals.intake.received != count:
                raise RuntimeError(f"the KPIs saw {check.totals.intake.received} tickets of {count}")
            base_sql = """SELECT count(*) FROM tickets
                           WHERE org_id = $1 AND property_id = $2 AND received_at >= $3 AND received_at < $4"""
            queries: dict[str, Callable[[], Awaitable[Any]]] = {
                "baseline, year": lambda: conn.fetchval(base_sql, org, prop, year.start_utc, year.end_utc),
                "baseline, 30 days": lambda: conn.fetchval(base_sql, org, prop, days30.start_utc, days30.end_utc),
                "KPI statement, year (totals and 4 breakdowns)": lambda: sql.property_figures(
                    conn, org, prop, year.start_utc, year.end_utc, NOW
                ),
                "KPI statement, last 30 days": lambda: sql.property_figures(
                    conn, org, prop, days30.start_utc, days30.end_utc, NOW
                ),
                "months' counts statement, year": lambda: sql.monthly_counts(
                    conn, org, prop, year.start_utc, year.end_utc, NOW, ZONE
                ),
                "KPI statement, a month ended (June)": lambda: sql.property_figures(
                    conn, org, prop, june.start_utc, june.end_utc, NOW
                ),
                "GET /kpis desk statement (org totals), year": lambda: sql.property_totals(
                    conn, org, [prop], [year.start_utc], [year.end_utc], NOW
                ),
                "households statement": lambda: sql.households(conn, org, prop),
                "use case, year": lambda: kpis.property_desk_kpis(conn, caller, prop, FIRST_DAY, LAST_DAY, NOW),
                "use case, default period (last 30 days)": lambda: kpis.property_desk_kpis(
                    conn, caller, prop, None, None, NOW
                ),
            }
            say(f"timing {len(queries)} queries × {repeats}, round-robin, after 6 warm-up rounds")
            seen = await timed(queries, repeats)
            exports: dict[str, Callable[[], Awaitable[Any]]] = {
                "baseline": lambda: conn.fetch(LEDGER_SQL, org, prop, month.start_utc, month.end_utc),
                "csv": lambda: drain(ledger.csv_chunks(pool, org, prop, month, "zh", NOW)),
                "xlsx": lambda: ledger.xlsx_bytes(pool, org, prop, month, "zh", NOW),
            }
            say(f"timing the ledger of {MONTH[0]:%B} × {max(5, repeats // 3)}")
            exported = await timed(exports, max(5, repeats // 3), warmup=1)
            month_rows = len(await exports["baseline"]())
            sizes = {"xlsx": len(await exports["xlsx"]()), "csv": await exports["csv"]()}
            postgres = await conn.fetchval("SHOW server_version")
            tower = await conn.fetch("SELECT id FROM units WHERE property_id = $1", pusher.property_id)
        finally:
            await pool.close()
            await conn.close()
        say(f"pushing {rounds} × {BATCH} handover notes and {rounds} × {BATCH} tickets, alternating")
        note_s, ticket_s = await pushes(url, pusher, [r["id"] for r in tower], rounds)

    year_base, month_base = median(seen.pop("baseline, year")), median(seen.pop("baseline, 30 days"))
    results = []
    for name, times in seen.items():
        statement = not name.startswith("use case")
        month_long = "30 days" in name or "June" in name
        base, base_name = (month_base, "count of 30 days' tickets") if month_long else (year_base, "count of a year's")
        results.append(timing(name, times, base, base_name, TARGET_MS if statement else None))
    ledger_base = median(exported.pop("baseline"))
    for fmt, times in exported.items():
        p95 = percentile(times, 95)
        results.append(
            Result(
                f"ledger of a month, {fmt} ({month_rows:,} tickets)",
                f"{median(times) * 1000:.0f} ms (p95 {p95 * 1000:.0f})",
                f"{ledger_base * 1000:.0f} ms (fetch of its rows)",
                f"{median(times) / ledger_base:.1f}×",
                f"p95 < {LEDGER_TARGET_S:.0f} s",
                p95 < LEDGER_TARGET_S,
            )
        )
    results.append(
        ratio_result(
            f"push of {BATCH} tickets", BATCH / median(ticket_s), BATCH / median(note_s), "rec/s", PUSH_TARGET,
            f"{BATCH} handover notes",
        )
    )  # fmt: skip
    t = check.totals
    notes = [
        f"fieldwork {describe()}, Python {platform.python_version()}, PostgreSQL {postgres}, {os.cpu_count()} CPUs "
        f"(load average {load_before:.1f} before the run, {os.getloadavg()[0]:.1f} after it)",
        f"{count:,} tickets and {event_count:,} events over {FIRST_DAY} to {LAST_DAY} for "
        f"{BUILDINGS * UNITS_PER_BUILDING:,} households, made and COPY'd in {load_s:.1f} s",
        f"the year's figures: {t.intake.declined:,} declined, {t.intake.repeats:,} repeats; response due "
        f"{t.response.due:,}, on time {t.response.on_time_rate or 0:.3f}; resolution due {t.resolution.due:,}, on "
        f"time {t.resolution.on_time_rate or 0:.3f}, {t.resolution.not_resolved:,} open overdue; first-time fix "
        f"{t.resolution.first_time_fix_rate or 0:.3f}; {t.confirmation.auto_confirmed:,} auto-confirmed; visit "
        f"coverage {t.visits.visit_coverage or 0:.3f}, mean rating {t.visits.mean_rating or 0:.2f}, "
        f"{t.visits.low_ratings:,} rated 1-2; complaints per 100 households {check.complaints_per_100_households:.1f}",
        f"median and p95 (nearest rank) of {repeats} calls each, interleaved, after 6 warm-up calls of each; the "
        f"ledger: {max(5, repeats // 3)} of each after one warm-up, {sizes['csv'] / 1e6:.1f} MB CSV, "
        f"{sizes['xlsx'] / 1e6:.1f} MB XLSX",
        f"pushes: median of {rounds} of each, alternating; handover notes {median(note_s) * 1000:.0f} ms, tickets "
        f"{median(ticket_s) * 1000:.0f} ms a push (filing a ticket also checks its household and channel, and "
        f"writes an audit entry and the desk's notification)",
    ]
    return results, "\n".join(f"- {note}" for note in notes)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.service_desk", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=40_000, help="tickets received over the year (default 40000)")
    parser.add_argument("--repeats", type=int, default=30, help="timed calls of each KPI query (default 30)")
    parser.add_argument("--pushes", type=int, default=6, help="pushes of 500 of each kind (default 6)")
    args = parser.parse_args()
    results, notes = asyncio.run(run(args.tickets, args.repeats, args.pushes))
    return print_results(results, notes, "bench.service_desk")


if __name__ == "__main__":
    sys.exit(main())
