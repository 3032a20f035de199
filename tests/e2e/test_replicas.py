"""Two API processes and two workers on one PostgreSQL and one Redis end where one API and one worker end.

The same seeded shift runs twice, each time on a fresh database and Redis namespace, against real processes
started with the CLI (`fieldwork serve`, `fieldwork worker`): once against one of each, once against two of
each, the phones' requests spread over both APIs in turn (a retry seldom reaches the process that saw the first
attempt) and every background job enqueued twice so the workers race for it. Phones of staff and supervisors
work offline on a lossy network, push when back, retry, conflict on shared notes, take photos whose bytes
arrive over tus; schedules make rounds and announcements; deadlines are chased; notifications are delivered.

One injected clock for every process (FIELDWORK_CLOCK_FILE), moved by the test, makes both runs see the same
instants; they are computed from the time the test starts, so it holds on any date. Compared: the records
(by id, with what is not a race between writers), the photos and their derivatives (each made once), every
schedule occurrence and what it made (once), every notification and its deliveries (once each), the counts."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from arq.constants import result_key_prefix as RESULT_PREFIX
from arq.jobs import Job, JobStatus

from core.access import Caller
from core.db import connect
from core.people import repository as people_sql
from core.people import service as people
from core.settings import Settings
from sync.simulate import Device, Ledger, open_device, planned_edit, run_shift, settled
from tests.conftest import ROOT, scratch_database
from tests.e2e.test_up import free_port
from tests.inspection_world import ok, set_up
from tests.integration.test_sync_protocol import settle
from tests.photo_world import jpeg, sha256
from tests.world import PASSWORD, build_org
from workers.settings import connect_queue

SEED = 1414
STAFF, SUPERVISORS, ROUNDS = 4, 2, 8
SHARED = [f"shared-{n}" for n in range(3)]  # notes on the board everyone edits
IMAGES = [jpeg(480, 360, seed=n) for n in range(3)]  # several photos share bytes: one set of derivatives each
SECRET = "replicas-test-secret-key-0123456789abcdef"
ZONE = ZoneInfo("Asia/Shanghai")  # the property's (tests/world.py)
# what a tick of the background half runs, in this order (delivery last: it sends what the others wrote)
TICK = [
    ("materialise_schedules", "chase_deadlines", "mark_missed_rounds"),
    ("deliver_notifications", "queue_derivatives"),
]


def folder(path: Path) -> Path:
    path.mkdir()
    return path


class ClockFile:
    """The instant every process of one installation takes as now."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def set(self, at: datetime) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(at.isoformat())
        tmp.replace(self.path)  # a process never reads half an instant


@dataclass
class Installation:
    settings: Settings
    clock: ClockFile
    apis: list[str] = field(default_factory=list)  # base URLs
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)  # name -> process
    logs: dict[str, Path] = field(default_factory=dict)


@contextlib.asynccontextmanager
async def installation(servers: tuple[str, str], template: str, home: Path) -> AsyncIterator[Installation]:
    """A fresh database and Redis namespace, one clock file; the processes started on it are stopped after."""
    async with scratch_database(servers[0], template) as url:
        settings = Settings(
            database_url=url,
            redis_url=servers[1],
            home=str(home),
            secret_key=SECRET,
            namespace=f"t{uuid.uuid4().hex[:12]}",
            db_pool_size=4,
            clock_file=str(home / "clock"),
        )
        setup = Installation(settings, ClockFile(home / "clock"))
        try:
            yield setup
        finally:
            await asyncio.to_thread(stop, setup)  # the other installation's test goes on meanwhile
        for name, log in setup.logs.items():
            assert "Traceback" not in log.read_text(errors="replace"), f"{name} failed:\n{log.read_text()[-4000:]}"


def start(setup: Installation, replicas: int) -> None:
    """`replicas` API processes and as many workers, started with the CLI, configured as an operator would."""
    settings = setup.settings
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FIELDWORK_")},
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "FIELDWORK_HOME": settings.home,
        "FIELDWORK_SECRET_KEY": SECRET,
        "FIELDWORK_NAMESPACE": settings.namespace,
        "FIELDWORK_DB_POOL_SIZE": str(settings.db_pool_size),
        "FIELDWORK_CLOCK_FILE": settings.clock_file or "",
        "FIELDWORK_LOG_LEVEL": "INFO",
    }
    for n in range(replicas):
        port = free_port()
        setup.apis.append(f"http://127.0.0.1:{port}")
        launch(setup, f"api{n}", ["serve"], {**env, "FIELDWORK_PORT": str(port)})
        launch(setup, f"worker{n}", ["worker"], env)


def launch(setup: Installation, name: str, args: list[str], env: dict[str, str]) -> None:
    log = Path(setup.settings.home) / f"{name}.log"
    with log.open("wb") as out:
        setup.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    setup.logs[name] = log


def stop(setup: Installation) -> None:
    for process in setup.processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for name, process in setup.processes.items():
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(f"{name} did not stop on SIGTERM") from None
    # uvicorn ends by raising the signal again after its graceful shutdown
    codes = {name: process.returncode for name, process in setup.processes.items()}
    assert set(codes.values()) <= {0, -signal.SIGTERM}, f"exit codes: {codes}"


async def until_answering(setup: Installation, deadline_s: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    async with httpx.AsyncClient(timeout=2) as http:
        for base in setup.apis:
            while True:
                for name, process in setup.processes.items():
                    assert process.poll() is None, f"{name} exited:\n{setup.logs[name].read_text()[-4000:]}"
                with contextlib.suppress(httpx.TransportError):
                    await http.get(f"{base}/health")
                    break
                assert loop.time() < deadline, f"{base} did not answer in {deadline_s}s"
                await asyncio.sleep(0.1)


@dataclass
class Story:
    """What the test arranged, with the labels that stand for server-made ids in the comparison."""

    labels: dict[str, str] = field(default_factory=dict)
    devices: list[Device] = field(default_factory=list)
    ledger: Ledger = field(default_factory=Ledger)


async def arrange(setup: Installation, db: asyncpg.Connection, t0: datetime, story: Story) -> None:
    """An org with phones of staff and supervisors, shared notes, a round schedule and an announced one,
    and rectification orders whose deadlines fall in the story."""
    org = await build_org(db, "rp")
    admin = Caller(org_id=org.org_id, user_id=org.ids["admin"], role="admin", session_id="arrange")
    story.labels.update({org.org_id: "org", org.property_id: "property", org.other_property_id: "other-property"})
    story.labels.update({user_id: f"user:{who}" for who, user_id in org.ids.items()})
    async with httpx.AsyncClient(base_url=setup.apis[-1], timeout=60) as api:
        site = await set_up(api, org)
        story.labels[site.fixer] = "user:fixer"
        # the phones' people share the admin's password hash: hashing it anew for each is slow and proves nothing
        password_hash = await db.fetchval("SELECT password_hash FROM users WHERE id = $1", org.ids["admin"])
        emails = []
        for n, role in enumerate(["staff"] * STAFF + ["supervisor"] * SUPERVISORS):
            email = f"phone{n}@rp.test"
            await people_sql.insert_user(db, org.org_id, f"phone-{n}", f"P{n}", role, email, None, password_hash)
            await people.assign_staff(db, admin, org.property_id, f"phone-{n}")
            emails.append(email)
        for n, note_id in enumerate(SHARED):
            await db.execute(
                "INSERT INTO handover_notes (org_id, id, property_id, author_id, body, status, created_at) "
                "VALUES ($1, $2, $3, $4, $5, 'open', $6)",
                org.org_id,
                note_id,
                org.property_id,
                org.ids["supervisor"],
                f"交接板 board {n}",
                t0,
            )
        story.ledger.shared = list(SHARED)
        local = t0.astimezone(ZONE)
        schedules = [
            {
                "kind": "inspection_round",
                "name": "早班巡查 morning round",
                "rrule": "FREQ=DAILY",
                "dtstart_local": f"{local:%Y-%m-%d}T09:00:00",
                "duration_minutes": 120,
                "payload": {
                    "template_id": site.template_id,
                    "route_id": site.route_id,
                    "assignee_ids": [org.ids["staff"], org.ids["supervisor"]],
                },
            },
            {
                "kind": "custom",
                "name": "消防检查 fire check",
                "rrule": "FREQ=DAILY;INTERVAL=2",
                "dtstart_local": f"{local:%Y-%m-%d}T14:00:00",
                "duration_minutes": 60,
            },
        ]
        for body in schedules:
            made = await ok(
                await api.post(f"/properties/{org.property_id}/schedules", headers=site.headers["admin"], json=body),
                201,
            )
            story.labels[made["id"]] = f"schedule:{body['name']}"
            # made the day before, in the story the clock tells
            await db.execute("UPDATE schedules SET created_at = $2 WHERE id = $1", made["id"], t0 - timedelta(days=1))
        for hours in (6, 20, 30, 60):
            order = await ok(
                await api.post(
                    f"/properties/{org.property_id}/orders",
                    headers=site.headers["supervisor"],
                    json={
                        "description": f"楼道积水 water on the stairs, due in {hours} h",
                        "category": "cleaning",
                        "severity": "high",
                        "responsible_id": site.fixer,
                        "due_at": (t0 + timedelta(hours=hours)).isoformat(),
                    },
                ),
                201,
            )
            story.labels[order["id"]] = f"order:{hours}h"
    rng = random.Random(SEED)
    for n, email in enumerate(emails):
        story.devices.append(
            await open_device(
                setup.apis, email, PASSWORD, Path(setup.settings.home) / f"phone{n}.db", rng=rng, loss=0.15
            )
        )


async def shift(db: asyncpg.Connection, story: Story) -> dict[str, int]:
    """The seeded shift, then syncs until nobody has anything left to push, then the photos' bytes."""
    rng = random.Random(SEED + 1)
    report = await run_shift(story.devices, rng, story.ledger, rounds=ROUNDS, edit_with=planned_edit)
    for _ in range(50):
        await settle(db)
        if not sum([(await device.client.sync()).pushed for device in story.devices]):
            break
    assert settled(story.devices), "a phone still has unsynced changes"
    assert report.lost_requests + report.lost_responses > 10, "the network was meant to be bad"
    for device in story.devices:
        for photo_id in sorted(p for p, who in story.ledger.photos.items() if who == device.user_id):
            await upload(device, photo_id, IMAGES[int(photo_id[-2:], 16) % len(IMAGES)])
    return {"lost_requests": report.lost_requests, "lost_responses": report.lost_responses}


async def upload(device: Device, photo_id: str, data: bytes) -> None:
    """The photo's bytes over tus, creation and bytes usually through different API processes."""
    http, auth = device.client.http, device.client._auth
    assert isinstance(auth, dict)
    tus = {**auth, "Tus-Resumable": "1.0.0"}
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in {"photo_id": photo_id}.items())
    created = await http.post("/uploads", headers={**tus, "Upload-Length": str(len(data)), "Upload-Metadata": meta})
    assert created.status_code == 201, created.text
    sent = await http.patch(
        httpx.URL(created.headers["Location"]).path,
        content=data,
        headers={**tus, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
    )
    assert sent.status_code == 204, sent.text


async def tick(setup: Installation, at: datetime) -> None:
    """Move the clock, and run each background job twice, waiting for each. The second copies are queued once
    workers have taken the first: a worker takes every job waiting when it looks at the queue, so queued
    together both copies would usually run in one process; queued apart, the other worker usually looks first."""
    setup.clock.set(at)
    queue = await connect_queue(setup.settings)
    try:
        for stage in TICK:
            jobs: list[Job] = []
            for _ in range(2):
                copies = [await queue.enqueue_job(name) for name in stage]
                for job in copies:
                    assert job is not None
                    await taken(job)
                    jobs.append(job)
            for job in jobs:
                await job.result(timeout=60, poll_delay=0.1)
    finally:
        await queue.aclose()


async def taken(job: Job) -> None:
    deadline = asyncio.get_running_loop().time() + 30
    while await job.status() in (JobStatus.queued, JobStatus.deferred):
        assert asyncio.get_running_loop().time() < deadline, f"no worker took {job.job_id} in 30s"
        await asyncio.sleep(0.02)


async def until_quiet(setup: Installation, db: asyncpg.Connection, at: datetime) -> None:
    """A tick at `at`, then wait until no photo waits for derivatives and no notification for delivery (the
    jobs the tick queued, or the workers' own cron ticks, finish them)."""
    await tick(setup, at)
    deadline = asyncio.get_running_loop().time() + 60
    while waiting := await db.fetch(
        "SELECT 'photo', id, uploaded_at FROM photos WHERE status = 'uploaded' "
        "UNION ALL SELECT 'delivery', channel, next_attempt_at FROM notification_deliveries WHERE status = 'pending'"
    ):
        assert asyncio.get_running_loop().time() < deadline, f"at {at} these still wait: {waiting}"
        await asyncio.sleep(0.1)


Row = tuple[Any, ...]


async def end_state(setup: Installation, db: asyncpg.Connection, story: Story) -> dict[str, Any]:
    """What must be the same whichever processes did the work, with server-made ids replaced by labels."""
    labels = dict(story.labels)

    def label(value: Any) -> Any:
        if isinstance(value, str):
            return ids.sub(lambda m: labels[m.group(0)], value)
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        return value

    async def rows(sql: str) -> list[Row]:
        return sorted(tuple(label(v) for v in record.values()) for record in await db.fetch(sql))

    # rounds by what made them (their keys name schedules: labelled already), then notifications (theirs name
    # orders, rounds, schedules)
    ids = re.compile("|".join(re.escape(i) for i in sorted(labels, key=len, reverse=True)))
    for sql in ("SELECT id, 'round:' || occurrence_key FROM rounds", "SELECT id, dedupe_key FROM notifications"):
        labels.update({made_id: label(key) for made_id, key in await db.fetch(sql)})
        ids = re.compile("|".join(re.escape(i) for i in sorted(labels, key=len, reverse=True)))
    # a shared note's body is a race between its writers: whoever wins, it is one that a phone wrote
    bodies = story.ledger.bodies
    notes = [
        (note, who, "a phone's" if body in bodies.get(note, ()) else body, status, at)
        for note, who, body, status, at in await rows(
            "SELECT id, author_id, body, status, created_at FROM handover_notes"
        )
    ]
    state: dict[str, Any] = {
        "notes": notes,
        "photos": await rows(
            "SELECT id, record_id, uploaded_by, status, sha256, size_bytes, width, height FROM photos"
        ),
        "occurrences": await rows("SELECT schedule_id, starts_at, ends_at, status FROM schedule_occurrences"),
        "schedules": await rows("SELECT id, materialised_until FROM schedules"),
        "rounds": await rows("SELECT id, assignee_id, status, window_start, window_end FROM rounds"),
        "orders": await rows("SELECT id, status, due_at FROM rectification_orders"),
        "notifications": await rows(
            "SELECT dedupe_key, kind, record_table, record_id, title_en, data::text FROM notifications"
        ),
        "deliveries": await rows(
            "SELECT notification_id, channel, status, attempts, last_error FROM notification_deliveries"
        ),
        "inbox": await rows("SELECT notification_id, user_id, kind, title_en FROM inbox"),
    }
    for table in ("handover_notes", "photos", "rounds", "schedule_occurrences", "notifications", "inbox"):
        state[f"count:{table}"] = await db.fetchval(f"SELECT count(*) FROM {table}")
    # each set of derivatives made once: one run of its job per original
    queue = await connect_queue(setup.settings)
    try:
        results = await job_results(queue, f"{setup.settings.namespace}:queue")
    finally:
        await queue.aclose()
    assert all(r.success for r in results), [r for r in results if not r.success]
    derived = sorted(r.args[1] for r in results if r.function == "make_derivatives")
    state["derivative runs"] = derived
    return state


async def job_results(queue, queue_name: str) -> list[Any]:
    """The results kept for one queue. Result keys are arq's own, shared by every test on this Redis: one that
    expires between the scan and the read is another test's and is passed over (arq's all_job_results raises)."""
    found = []
    for key in await queue.keys(f"{RESULT_PREFIX}*"):
        job = Job(key.decode().removeprefix(RESULT_PREFIX), queue, _deserializer=queue.job_deserializer)
        info = await job.result_info()
        if info is not None and info.queue_name == queue_name:
            found.append(info)
    return found


def check(state: dict[str, Any], story: Story) -> None:
    """What one run must show on its own: nothing lost, nothing doubled, everything delivered once."""
    ledger = story.ledger
    notes = {row[0]: row for row in state["notes"]}
    assert set(notes) == (ledger.created - ledger.deleted) | set(SHARED)
    assert {i for i in SHARED if notes[i][3] == "resolved"} == ledger.resolved & set(SHARED)
    assert {row[0] for row in state["photos"]} == set(ledger.photos)
    assert all(row[3] == "ready" for row in state["photos"]), state["photos"]
    assert state["derivative runs"] == sorted({sha256(image) for image in IMAGES} & {r[4] for r in state["photos"]})
    assert state["deliveries"] and all(row[2:] == ("delivered", 1, None) for row in state["deliveries"])
    assert len(state["inbox"]) == len(state["deliveries"])
    missed = [row for row in state["rounds"] if row[2] == "missed"]
    assert missed and len(state["rounds"]) > len(missed)
    kinds = {row[1] for row in state["notifications"]}
    assert {"round.missed", "schedule.custom", "rectification.overdue", "rectification.escalate-admins"} <= kinds


async def run(servers: tuple[str, str], template: str, home: Path, t0: datetime, replicas: int) -> tuple:
    async with installation(servers, template, home) as setup:
        setup.clock.set(t0)
        start(setup, replicas)
        assert setup.settings.database_url
        db = await connect(setup.settings.database_url)
        try:
            await until_answering(setup)
            story = Story()
            await arrange(setup, db, t0, story)
            network = await shift(db, story)
            for device in story.devices:
                await device.client.http.aclose()
            # just after the shift, the next day after the first windows closed, and three days on
            for at in (t0 + timedelta(minutes=5), t0 + timedelta(days=1, hours=4), t0 + timedelta(days=3)):
                await until_quiet(setup, db, at)
            state = await end_state(setup, db, story)
        finally:
            await db.close()
    check(state, story)
    plan = (sorted(story.ledger.created), sorted(story.ledger.deleted), sorted(story.ledger.photos))
    # every worker had a share of the queued jobs (arq logs each job it starts: "→ <id>:<function>()")
    queued = re.compile(r"→ [0-9a-f]{32}:(" + "|".join(name for stage in TICK for name in stage) + r")\(")
    shares = {name: len(queued.findall(log.read_text())) for name, log in setup.logs.items() if "worker" in name}
    assert all(shares.values()), f"jobs each worker ran: {shares}"
    return plan, state, network


async def test_two_apis_and_two_workers_end_where_one_of_each_ends(servers, template_db, tmp_path):
    t0 = (datetime.now(UTC) + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    # side by side: nothing is shared but the servers (each its own database and Redis namespace); a task group,
    # so that one side failing stops the other rather than leaving it running past the test
    async with asyncio.TaskGroup() as group:
        single = group.create_task(run(servers, template_db, folder(tmp_path / "one"), t0, replicas=1))
        double = group.create_task(run(servers, template_db, folder(tmp_path / "two"), t0, replicas=2))
    (one_plan, one, _), (two_plan, two, network) = single.result(), double.result()
    assert two_plan == one_plan, "the seed was meant to make the same edits"
    assert network["lost_responses"] > 0  # retries of answered pushes, most of them to the other process
    for key in one:
        assert two[key] == one[key], key
