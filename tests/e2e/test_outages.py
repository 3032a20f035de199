"""The chaos test: `fieldwork up` on PostgreSQL and Redis servers of the test's own, with phones pushing, while
Redis and then PostgreSQL are SIGKILLed and started again, and then the worker process is killed.

The API and the worker ride both outages out in the same processes, requests meanwhile answer 503 (never
500), /health says `degraded` then `ok`, every acknowledged push is there afterwards and every job completes;
the supervisor starts a killed worker again.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import msgspec
import psutil
import pytest
from arq.jobs import Job, JobStatus

from core.db import connect
from core.settings import Settings
from sync.simulate import open_device, sync_once
from tests.conftest import ROOT
from tests.e2e.test_up import poll
from tests.private_servers import free_port, private_servers
from tests.world import PASSWORD, build_org
from workers.settings import connect_queue, queue_name

pytestmark = pytest.mark.chaos

PHONES = ("staff", "supervisor")
# How long each server stays down: about a restart's length (the blip that used to stop everything was 1.6 s).
# Holding the fault for this long is the scenario, not a wait for work.
OUTAGE = 2.0


def health(base: str) -> tuple[int, dict]:
    answer = httpx.get(f"{base}/health", timeout=5)
    return answer.status_code, answer.json()


def children(up: subprocess.Popen) -> dict[str, int]:
    """The pids of `fieldwork up`'s API and worker processes."""
    found = {}
    for child in psutil.Process(up.pid).children():
        try:
            command = child.cmdline()
        except psutil.NoSuchProcess:  # a zombie too: a child that died and is not reaped yet
            continue
        for name in ("serve", "worker"):
            if command[-1:] == [name]:
                found[name] = child.pid
    return found


class Phones(threading.Thread):
    """Reference clients writing handover notes and syncing in a loop, on their own event loop, until stopped;
    every answer's status is counted, and a note counts as acknowledged once a sync after it succeeded."""

    def __init__(self, base: str, org, folder: Path) -> None:
        super().__init__(daemon=True)
        self.base, self.org, self.folder = base, org, folder
        self.stopping = threading.Event()
        self.statuses: Counter[int] = Counter()
        self.created: set[str] = set()
        self.acknowledged: set[str] = set()
        self.devices: list = []
        self.failure: BaseException | None = None

    async def count(self, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1

    async def phone(self, who: str) -> None:
        rng = random.Random(who)
        device = await open_device(
            self.base, self.org.email(who), PASSWORD, self.folder / f"{who}.db", rng=rng, loss=0.0
        )
        self.devices.append(device)
        device.client.http.event_hooks["response"].append(self.count)
        store = device.client.store
        while not self.stopping.is_set():
            note = store.create(
                "handover_notes",
                {
                    "property_id": device.property_id,
                    "author_id": device.user_id,
                    "body": f"{who} note {len(self.created)}",
                    "status": "open",
                    "created_at": 1_795_000_000_000,
                },
            )
            self.created.add(note)
            written = {r["id"] for r in store.records("handover_notes") if r["author_id"] == device.user_id}
            if await sync_once(device) and not store.pending_changes() and store.outbox() is None:
                self.acknowledged |= written
            await asyncio.sleep(0.05)  # a pace, not a wait for work: phones sync every few tenths

    async def settle(self) -> None:
        """Sync every phone until nothing is left to push (a push the outage left unanswered is resent)."""
        deadline = time.monotonic() + 30
        for device in self.devices:
            store = device.client.store
            while store.pending_changes() or store.outbox() is not None:
                assert time.monotonic() < deadline, "a phone could not push what it holds"
                await sync_once(device)

    def run(self) -> None:
        """Until stopped, then settle: SQLite stores and httpx clients stay on this thread and its loop."""

        async def main() -> None:
            try:
                await asyncio.gather(*(self.phone(who) for who in PHONES))
                await self.settle()
            finally:
                for device in self.devices:
                    await device.client.http.aclose()

        try:
            asyncio.run(main())
        except BaseException as exc:
            self.failure = exc


async def enqueue(settings: Settings, job_id: str, *, defer: float = 0) -> None:
    queue = await connect_queue(settings)
    try:
        assert await queue.enqueue_job("purge_sessions", _job_id=job_id, _defer_by=defer or None) is not None
    finally:
        await queue.aclose()


async def job_outcomes(settings: Settings, job_ids: list[str]) -> dict[str, bool | None]:
    """Each job's success, or None while it is not finished."""
    queue = await connect_queue(settings)
    try:
        outcomes: dict[str, bool | None] = {}
        for job_id in job_ids:
            job = Job(job_id, queue, _queue_name=queue_name(settings), _deserializer=msgspec.msgpack.decode)
            info = await job.result_info() if await job.status() == JobStatus.complete else None
            outcomes[job_id] = info.success if info else None
        return outcomes
    finally:
        await queue.aclose()


async def stored_notes(url: str, org_id: str) -> set[str]:
    conn = await connect(url)
    try:
        return {r["id"] for r in await conn.fetch("SELECT id FROM handover_notes WHERE org_id = $1", org_id)}
    finally:
        await conn.close()


async def arrange(url: str):
    conn = await connect(url)
    try:
        return await build_org(conn, "chaos")
    finally:
        await conn.close()


@pytest.fixture
def folder():
    """A folder PostgreSQL's own system user can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="fw-chaos-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_redis_and_postgres_restarts_under_fieldwork_up(folder: Path):
    with private_servers(folder) as (postgres, redis):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": postgres.url,
            "REDIS_URL": redis.url,
            "FIELDWORK_HOME": str(folder / "home"),
            "FIELDWORK_PORT": str(port),
            "FIELDWORK_LOG_LEVEL": "INFO",
        }
        settings = Settings(database_url=postgres.url, redis_url=redis.url)
        log_path = folder / "up.log"
        with log_path.open("w") as log:
            up = subprocess.Popen(
                [sys.executable, "-m", "cli", "up"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        phones: Phones | None = None
        try:
            poll(lambda: health(base)[0] == 200, 60, "/health to say ok")
            pids = children(up)
            assert set(pids) == {"serve", "worker"}
            org = asyncio.run(arrange(postgres.url))
            phones = Phones(base, org, folder)
            phones.start()
            poll(lambda: len(phones.acknowledged) >= 4, 30, "the phones' first pushes")
            jobs = ["before-redis"]
            asyncio.run(enqueue(settings, "before-redis", defer=2))  # still queued when Redis dies

            # Redis dies: logins need it (attempt limits) and answer 503; /health says so
            redis.kill()
            _, body = poll(lambda: (h := health(base))[0] == 503 and h, 10, "/health to notice Redis")
            assert body["status"] == "degraded" and not body["redis"]["ok"] and body["database"]["ok"]
            login = httpx.post(f"{base}/auth/login", json={"login": org.email("admin"), "password": PASSWORD})
            assert login.status_code == 503, login.text
            assert login.headers["content-type"] == "application/problem+json"
            assert int(login.headers["retry-after"]) > 0 and login.json()["code"] == "unavailable"
            time.sleep(OUTAGE)
            redis.start()
            poll(lambda: health(base)[0] == 200, 30, "/health to say ok after Redis came back")
            jobs.append("after-redis")
            asyncio.run(enqueue(settings, "after-redis"))
            acknowledged = len(phones.acknowledged)
            poll(lambda: len(phones.acknowledged) > acknowledged, 20, "pushes after Redis came back")

            # PostgreSQL dies: every request needs it and answers 503; a job meeting it is retried, not failed
            served_503 = phones.statuses[503]
            postgres.kill()
            _, body = poll(lambda: (h := health(base))[0] == 503 and h, 10, "/health to notice PostgreSQL")
            assert body["status"] == "degraded" and not body["database"]["ok"] and body["redis"]["ok"]
            jobs.append("during-postgres")
            asyncio.run(enqueue(settings, "during-postgres"))
            poll(lambda: phones.statuses[503] > served_503, 10, "a phone to be told 503")
            time.sleep(OUTAGE)
            postgres.start()
            poll(lambda: health(base)[0] == 200, 30, "/health to say ok after PostgreSQL came back")
            acknowledged = len(phones.acknowledged)
            poll(lambda: len(phones.acknowledged) > acknowledged, 20, "pushes after PostgreSQL came back")

            # the same API and worker processes rode both out
            assert children(up) == pids
            # a worker that dies anyway is started again by `fieldwork up`, which keeps serving meanwhile
            os.kill(pids["worker"], signal.SIGKILL)
            poll(lambda: children(up).get("worker", pids["worker"]) != pids["worker"], 20, "a new worker")
            assert children(up)["serve"] == pids["serve"] and up.poll() is None
            jobs.append("after-worker-restart")
            asyncio.run(enqueue(settings, "after-worker-restart"))

            phones.stopping.set()
            phones.join(timeout=60)
            assert not phones.is_alive() and phones.failure is None, phones.failure
            stored = asyncio.run(stored_notes(postgres.url, org.org_id))
            assert phones.acknowledged <= stored, "an acknowledged push was lost"
            assert stored == phones.created, "every note a phone wrote is stored once it synced"
            outcomes = poll(
                lambda: all((o := asyncio.run(job_outcomes(settings, jobs))).values()) and o, 40, "every job"
            )
            assert outcomes == dict.fromkeys(jobs, True)
            assert phones.statuses[503] > 0 and not [s for s in phones.statuses if s >= 500 and s != 503]
            assert health(base)[0] == 200
        finally:
            if phones is not None:
                phones.stopping.set()
            up.send_signal(signal.SIGINT)
            try:
                up.wait(timeout=60)
            finally:
                print(log_path.read_text()[-30000:])  # shown when the test fails: what the processes said
        output = log_path.read_text()
        assert up.returncode == 0, output
        assert "is unavailable" in output and "starting it again" in output, output
