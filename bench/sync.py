"""Sync: fieldwork's /sync/push and /sync/pull against a raw COPY and pouchdb-server, same records, one run.

    .venv/bin/python -m bench.sync [--records N] [--quick]

1. push ingest (records/s): 500 created handover_notes per POST /sync/push, in sequence, against the same rows
   COPY'd in 500-row statements into a fresh copy of the same database (the floor), and against pouchdb-server
   fed the same records as 500-doc POST /db/_bulk_docs.
2. first pull (records/s): GET /sync/pull?last_pulled_at=null of all N records, read to the end, against
   pouchdb-server's GET /db/_changes?include_docs=true.
3. empty incremental pull p99 against GET /health p99: 16 clients, each alternating the two requests.
4. the server's RSS growth (peak − baseline, sampled every 20 ms) while it serves the first pulls.

Both servers run as their own processes, side by side; responses are requested uncompressed from both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import string
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec

from bench._support import (
    MB,
    POUCHDB,
    ROOT,
    Result,
    RssSampler,
    database_name,
    fieldwork_server,
    median,
    percentile,
    pouchdb_server,
    print_results,
    say,
    scratch_database,
)
from core.access import Caller
from core.db import connect
from core.people import service as people
from core.people.schemas import UserCreate
from core.places import service as places
from core.places.schemas import PropertyCreate

BATCH = 500
PASSWORD = "bench-password-0123456789"
PLAIN = {"Accept-Encoding": "identity"}  # pouchdb-server gzips when asked; fieldwork does not: compare bytes alike
JSON = {"Content-Type": "application/json"}
COLUMNS = ("id", "property_id", "author_id", "body", "status", "resolved_by", "resolved_at", "created_at")
PHRASES = (
    "2号电梯异响", "lift 2 rattles, engineer called", "三楼走廊灯不亮", "corridor light out on 3F",
    "垃圾房门锁坏了", "bin room lock is broken", "访客车位被货车占用", "visitor bay blocked by a van",
    "消防通道有杂物", "fire exit cluttered, boxes moved", "水泵房漏水", "pump room leak, bucket placed",
    "请下一班跟进", "next shift please check", "1203业主投诉噪音", "noise complaint from 1203",
)  # fmt: skip


@dataclass(frozen=True)
class World:
    org_id: str
    property_id: str
    user_id: str
    email: str


async def build_world(url: str) -> World:
    """An org, a property and a staff member assigned to it, through the services (as tests/world.py does)."""
    conn = await connect(url)
    try:
        async with conn.transaction():
            org_id, admin = await people.create_org(
                conn, name="Bench", admin_name="Admin", admin_email="admin@bench.test", admin_password=PASSWORD
            )
            caller = Caller(org_id=org_id, user_id=admin.id, role="admin", session_id="bench")
            prop = await places.create_property(conn, caller, PropertyCreate(name="Garden", timezone="Asia/Shanghai"))
            staff = UserCreate(name="Staff", role="staff", email="staff@bench.test", password=PASSWORD)
            user = await people.create_user(conn, caller, staff)
            await people.assign_staff(conn, caller, prop.id, user.id)
    finally:
        await conn.close()
    return World(org_id=org_id, property_id=prop.id, user_id=user.id, email="staff@bench.test")


def make_records(n: int, world: World, seed: int = 20240501) -> list[dict[str, Any]]:
    """N handover notes as a phone creates them: 16-character ids, ~120 characters of mixed text."""
    rng = random.Random(seed)
    start_ms = 1_714_500_000_000
    records = []
    for i in range(n):
        body = ""
        while len(body) < 120:
            body += ("，" if body else "") + rng.choice(PHRASES)
        records.append(
            {
                "id": "".join(rng.choices(string.ascii_letters + string.digits, k=16)),
                "property_id": world.property_id,
                "author_id": world.user_id,
                "body": body[:120],
                "status": "open",
                "resolved_by": None,
                "resolved_at": None,
                "created_at": start_ms + i * 1000,
            }
        )
    return records


def batches(records: list[Any]) -> list[list[Any]]:
    return [records[i : i + BATCH] for i in range(0, len(records), BATCH)]


async def copy_ingest(url: str, world: World, records: list[dict[str, Any]]) -> tuple[float, float]:
    """Seconds to COPY the rows in 500-row statements (each its own transaction, as a push is), and in one."""
    rows = [
        (world.org_id, *(r[c] for c in COLUMNS[:-1]), datetime.fromtimestamp(r["created_at"] / 1000, UTC))
        for r in records
    ]
    conn = await connect(url)
    try:
        start = time.perf_counter()
        for batch in batches(rows):
            await conn.copy_records_to_table("handover_notes", records=batch, columns=("org_id", *COLUMNS))
        batched = time.perf_counter() - start
        await conn.execute("TRUNCATE handover_notes")
        start = time.perf_counter()
        await conn.copy_records_to_table("handover_notes", records=rows, columns=("org_id", *COLUMNS))
        return batched, time.perf_counter() - start
    finally:
        await conn.close()


async def fieldwork_push(api: httpx.AsyncClient, auth: dict[str, str], records: list[dict[str, Any]]) -> float:
    """Seconds for the pushes, in sequence, after the first pull that gives a device its cursor."""
    first = (await api.get("/sync/pull", params={"last_pulled_at": "null"}, headers=auth)).json()
    bodies = [
        msgspec.json.encode(
            {"handover_notes": {"created": [{**r, "_status": "created", "_changed": ""} for r in batch]}}
        )
        for batch in batches(records)
    ]
    query = {"last_pulled_at": str(first["timestamp"])}
    start = time.perf_counter()
    for i, body in enumerate(bodies):
        # the reference client (sync/client.py) sends every push with an Idempotency-Key
        headers = {**auth, **JSON, "Idempotency-Key": f"bench-push-{i}"}
        response = await api.post("/sync/push", params=query, content=body, headers=headers)
        answer = response.json() if response.status_code == 200 else {}
        if answer.get("applied", {}).get("handover_notes", {}).get("created") != BATCH or answer["rejected"]:
            raise RuntimeError(f"push {i} answered {response.status_code}: {response.text[:500]}")
    return time.perf_counter() - start


async def pouchdb_push(couch: httpx.AsyncClient, records: list[dict[str, Any]]) -> float:
    created = await couch.put("/notes")
    if created.status_code != 201:
        raise RuntimeError(f"PUT /notes answered {created.status_code}: {created.text}")
    docs = [{"_id": r["id"], **{c: r[c] for c in COLUMNS[1:]}} for r in records]
    bodies = [msgspec.json.encode({"docs": batch}) for batch in batches(docs)]
    start = time.perf_counter()
    for i, body in enumerate(bodies):
        response = await couch.post("/notes/_bulk_docs", content=body, headers=JSON)
        if response.status_code != 201 or any("error" in item for item in response.json()):
            raise RuntimeError(f"_bulk_docs {i} answered {response.status_code}: {response.text[:500]}")
    return time.perf_counter() - start


async def read_all(client: httpx.AsyncClient, path: str, params: dict[str, str], headers: dict[str, str]) -> bytes:
    chunks = []
    async with client.stream("GET", path, params=params, headers={**headers, **PLAIN}) as response:
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {(await response.aread())[:500]!r}")
        async for chunk in response.aiter_raw():
            chunks.append(chunk)
    return b"".join(chunks)


async def pull_rates(
    api: httpx.AsyncClient, auth: dict[str, str], couch: httpx.AsyncClient, n: int, runs: int
) -> tuple[list[float], list[float], int]:
    """Seconds per full pull (fieldwork, pouchdb-server, alternating), and the last fieldwork cursor."""
    ours, theirs, cursor = [], [], 0
    for run in range(runs):
        start = time.perf_counter()
        body = await read_all(api, "/sync/pull", {"last_pulled_at": "null"}, auth)
        ours.append(time.perf_counter() - start)
        answer = json.loads(body)
        cursor, got = answer["timestamp"], len(answer["changes"]["handover_notes"]["created"])
        start = time.perf_counter()
        body = await read_all(couch, "/notes/_changes", {"include_docs": "true"}, {})
        theirs.append(time.perf_counter() - start)
        docs = len(json.loads(body)["results"])
        if got != n or docs != n:
            raise RuntimeError(f"pull {run}: fieldwork sent {got} records, pouchdb-server {docs}; expected {n}")
        say(f"  pull {run + 1}/{runs}: fieldwork {n / ours[-1]:,.0f} rec/s, pouchdb-server {n / theirs[-1]:,.0f} rec/s")
    return ours, theirs, cursor


async def latencies(
    base: str, auth: dict[str, str], cursor: int, clients: int, requests: int
) -> tuple[list[float], list[float]]:
    """Seconds per empty incremental pull and per /health: `clients` clients, each alternating the two."""
    pull_params = {"last_pulled_at": str(cursor)}
    seen: dict[str, list[float]] = {"pull": [], "health": []}
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        answer = (await c.get("/sync/pull", params=pull_params, headers=auth)).json()
    if any(any(section) for table in answer["changes"].values() for section in table.values()):
        raise RuntimeError(f"the pull after {cursor} is not empty: {str(answer)[:300]}")

    async def client(k: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30, headers=PLAIN) as c:
            for i in range(requests + 20):  # the first 20 of each warm the connection up
                kinds = ("pull", "health") if (i + k) % 2 else ("health", "pull")
                for kind in kinds:
                    start = time.perf_counter()
                    if kind == "pull":
                        response = await c.get("/sync/pull", params=pull_params, headers=auth)
                    else:
                        response = await c.get("/health")
                    elapsed = time.perf_counter() - start
                    if response.status_code != 200:
                        raise RuntimeError(f"{kind} answered {response.status_code}: {response.text[:300]}")
                    if i >= 20:
                        seen[kind].append(elapsed)

    await asyncio.gather(*(client(k) for k in range(clients)))
    return seen["pull"], seen["health"]


def ratio_result(metric: str, ours: float, base: float, unit: str, low: float, baseline_name: str) -> Result:
    ratio = ours / base
    return Result(
        metric,
        f"{ours:,.0f} {unit}",
        f"{base:,.0f} {unit} ({baseline_name})",
        f"{ratio:.2f}×",
        f"≥ {low:g}×",
        ratio >= low,
    )


def versions(postgres: str) -> str:
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    pouch = json.loads((POUCHDB / "node_modules" / "pouchdb-server" / "package.json").read_text())["version"]
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    return (
        f"fieldwork {commit.stdout.strip()}, Python {platform.python_version()}, PostgreSQL {postgres}, "
        f"pouchdb-server {pouch} (LevelDB on disk), node {node}, {os.cpu_count()} CPUs"
    )


async def run(n: int, clients: int, requests: int, runs: int) -> tuple[list[Result], str]:
    results: list[Result] = []
    async with scratch_database() as url:
        say(f"scratch database {database_name(url)}: building the org, property and staff user")
        world = await build_world(url)
        records = make_records(n, world)
        conn = await connect(url)
        postgres = await conn.fetchval("SHOW server_version")
        await conn.close()
        async with scratch_database(template=database_name(url)) as copy_url:
            say(f"COPY of {n:,} rows into {database_name(copy_url)} (a fresh copy of the same database)")
            copy_batched, copy_once = await copy_ingest(copy_url, world, records)
        with (
            tempfile.TemporaryDirectory(prefix="fieldwork-bench-") as tmp,
            fieldwork_server(url, Path(tmp) / "fieldwork") as ours,
            pouchdb_server(Path(tmp) / "pouchdb") as theirs,
        ):
            async with (
                httpx.AsyncClient(base_url=ours.url, timeout=600) as api,
                httpx.AsyncClient(base_url=theirs.url, timeout=600) as couch,
            ):
                login = await api.post("/auth/login", json={"login": world.email, "password": PASSWORD})
                login.raise_for_status()
                auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
                say(f"pushing {n:,} records to fieldwork in {len(batches(records))} pushes")
                push_s = await fieldwork_push(api, auth, records)
                say(f"pushing {n:,} records to pouchdb-server in {len(batches(records))} _bulk_docs")
                pouch_push_s = await pouchdb_push(couch, records)
                say(f"first pulls of {n:,} records, {runs} each, alternating")
                with RssSampler(ours.pid) as rss, RssSampler(theirs.pid) as pouch_rss:
                    pulls, pouch_pulls, cursor = await pull_rates(api, auth, couch, n, runs)
                say(f"empty incremental pulls and /health: {clients} clients × {requests} of each")
                empty, health = await latencies(ours.url, auth, cursor, clients, requests)
    push_rate = n / push_s
    results.append(ratio_result("push ingest", push_rate, n / copy_batched, "rec/s", 0.4, "COPY, 500 rows each"))
    results.append(ratio_result("push ingest", push_rate, n / pouch_push_s, "rec/s", 3, "pouchdb-server _bulk_docs"))
    pull_rate, pouch_rate = n / median(pulls), n / median(pouch_pulls)
    results.append(ratio_result("first pull", pull_rate, pouch_rate, "rec/s", 10, "pouchdb-server _changes"))
    p99, health_p99 = percentile(empty, 99) * 1000, percentile(health, 99) * 1000
    results.append(
        Result(
            f"empty pull p99 ({clients} clients)",
            f"{p99:.1f} ms",
            f"{health_p99:.1f} ms (/health p99)",
            f"{p99 / health_p99:.2f}×",
            "≤ 2×",
            p99 <= 2 * health_p99,
        )
    )
    results.append(
        Result(
            f"server RSS growth, {n:,}-record pull",
            f"{rss.growth / MB:.1f} MB",
            f"{pouch_rss.growth / MB:.1f} MB (pouchdb-server, for reference)",
            "—",
            "< 50 MB",
            rss.growth < 50 * MB,
        )
    )
    notes = [
        versions(postgres),
        f"{n:,} records; pushes of {BATCH}; pull rates: median of {runs}; RSS sampled {rss.samples} times, "
        f"baseline {rss.baseline / MB:.0f} MB",
        f"COPY in one statement: {n / copy_once:,.0f} rec/s (push = {push_rate * copy_once / n:.2f}× of it)",
        f"p50: empty pull {median(empty) * 1000:.1f} ms, /health {median(health) * 1000:.1f} ms; "
        f"p99.9: {percentile(empty, 99.9) * 1000:.1f} ms, {percentile(health, 99.9) * 1000:.1f} ms",
    ]
    return results, "\n".join(f"- {note}" for note in notes)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000, help="records pushed and pulled (default 100000)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 5000 records, 100 requests per client")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients for the latency test")
    parser.add_argument("--requests", type=int, default=2000, help="requests of each kind per client")
    parser.add_argument("--pulls", type=int, default=3, help="full pulls of each server (median taken)")
    args = parser.parse_args()
    if args.quick:
        args.records, args.requests = 5000, 100
    if args.records < BATCH or args.records % BATCH:
        parser.error(f"--records must be a multiple of {BATCH}")
    results, notes = asyncio.run(run(args.records, args.clients, args.requests, args.pulls))
    return print_results(results, notes, "bench.sync")


if __name__ == "__main__":
    sys.exit(main())
