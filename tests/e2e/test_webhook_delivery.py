"""Webhooks delivered to a real HTTP receiver on 127.0.0.1: signed, retried with back-off, given up on; and a
worker process killed with SIGKILL in the middle of a backlog loses nothing and sends nothing twice.

Webhooks may not reach loopback (core/egress.py): these tests run as an on-premises install whose operator
allowed its receivers' network, here 127.0.0.0/8, with FIELDWORK_WEBHOOK_ALLOW_NETWORKS."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import inspect
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import msgspec
import pytest

from bootstrap.domains import registry
from core.access import Caller
from core.clock import FixedClock
from core.egress import Egress
from core.notifications.schemas import WebhookCreate
from core.notifications.service import create_webhook, notify
from tests.conftest import ROOT
from tests.e2e.test_up import free_port
from tests.integration.test_worker import run_job
from tests.world import build_org

RECEIVERS = "127.0.0.0/8"


@pytest.fixture
def settings(settings):
    """The test's settings with the receivers' network allowed, as an on-premises operator would."""
    return msgspec.structs.replace(settings, webhook_allow_networks=RECEIVERS)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a killed worker resets its connection
            super().handle_error(request, client_address)


class Receiver:
    """A webhook receiver in a thread: checks each POST's signature, answers from a script (then 200), keeps
    every POST it got and acts on each X-Fieldwork-Delivery id once, as a careful receiver does."""

    def __init__(self, answers: list[int] | None = None, delay: float = 0.0, host: str = "127.0.0.1") -> None:
        self.secret = ""
        self.answers = list(answers or [])
        self.delay = delay
        self.location: str | None = None  # sent with every answer: a receiver that redirects
        self.posts: list[dict] = []
        self.acted_on: Counter[str] = Counter()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as most receivers

            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request (the crash test): no request at all
                    self.close_connection = True
                    return
                receiver.receive(self, body)

            def log_message(self, *args) -> None:
                pass

        self.server = QuietServer((host, 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_port

    @property
    def url(self) -> str:
        return f"http://{self.server.server_address[0]}:{self.port}/hooks/fieldwork"

    def receive(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        timestamp = handler.headers["X-Fieldwork-Timestamp"]
        expected = hmac.new(self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        signed = hmac.compare_digest(handler.headers["X-Fieldwork-Signature"], f"sha256={expected}")
        delivery = handler.headers["X-Fieldwork-Delivery"]
        time.sleep(self.delay)  # the receiver's own work
        with self.lock:
            status = 401 if not signed else (self.answers.pop(0) if self.answers else 200)
            self.posts.append(
                {
                    "delivery": delivery,
                    "timestamp": timestamp,
                    "signed": signed,
                    "status": status,
                    "body": body,
                    "host": handler.headers["Host"],
                }
            )
            if status == 200 and self.acted_on[delivery] == 0:
                self.acted_on[delivery] += 1
        try:
            handler.send_response(status)
            if self.location:
                handler.send_header("Location", self.location)
            handler.send_header("Content-Length", "2")
            handler.end_headers()
            handler.wfile.write(b"no" if status != 200 else b"ok")
        except OSError:
            pass  # the worker went away mid-answer (the crash test kills it)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


async def add_webhook(db, org, url: str, egress: Egress, kinds: list[str] | None = None) -> str:
    """A webhook made through the service (with its URL check), as an admin would over the API; returns its
    secret."""
    admin = Caller(org_id=org.org_id, user_id=org.ids["admin"], role="admin", session_id="test")
    async with db.transaction():
        known = registry().notification_kinds
        return (await create_webhook(db, admin, WebhookCreate(url=url, kinds=kinds), egress, known)).secret


async def notice(db, org, key: str, recipients=(), **extra) -> None:
    assert await notify(
        db,
        org_id=org.org_id,
        dedupe_key=key,
        kind="rectification.overdue",
        recipients=list(recipients),
        title_zh="整改单已逾期",
        title_en="Rectification overdue",
        body_zh="配电房门锁损坏",
        body_en="Switch room lock broken",
        property_id=org.property_id,
        record_table="rectification_orders",
        record_id=key,
        data={"step": "overdue"},
        **extra,
    )


async def delivery(db):
    return await db.fetchrow(
        "SELECT status, attempts, next_attempt_at, last_error, delivered_at FROM notification_deliveries"
    )


async def test_a_receiver_failing_twice_gets_the_signed_notice_on_the_third_attempt(db, settings):
    org = await build_org(db, "wh1")
    with Receiver(answers=[500, 500]) as receiver:
        receiver.secret = await add_webhook(db, org, receiver.url, Egress.of(settings))
        async with db.transaction():
            await notice(db, org, "order-7")
        notification_id = await db.fetchval("SELECT id FROM notifications")
        clock = FixedClock(datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1))
        start = clock.at

        await run_job(settings, "deliver_notifications", clock)
        first = await delivery(db)
        assert (first["status"], first["attempts"], first["last_error"]) == ("pending", 1, "HTTP 500: no")
        # back-off: the 30 s base with jitter in [0.5, 1)
        assert start + timedelta(seconds=15) <= first["next_attempt_at"] < start + timedelta(seconds=30)
        clock.advance(seconds=14)
        await run_job(settings, "deliver_notifications", clock)
        assert len(receiver.posts) == 1  # not due yet

        clock.advance(seconds=16)
        await run_job(settings, "deliver_notifications", clock)
        second = await delivery(db)
        assert (second["status"], second["attempts"]) == ("pending", 2)
        assert clock.at + timedelta(seconds=30) <= second["next_attempt_at"] < clock.at + timedelta(seconds=60)

        clock.advance(seconds=60)
        await run_job(settings, "deliver_notifications", clock)
        done = await delivery(db)
        assert (done["status"], done["attempts"], done["last_error"]) == ("delivered", 3, None)
        assert done["delivered_at"] == clock.at
        await run_job(settings, "deliver_notifications", clock)

    assert [p["status"] for p in receiver.posts] == [500, 500, 200]
    assert all(p["signed"] and p["delivery"] == notification_id for p in receiver.posts)
    assert receiver.posts[-1]["timestamp"] == str(int(clock.at.timestamp()))
    body = json.loads(receiver.posts[-1]["body"])
    assert body == {
        "id": notification_id,
        "kind": "rectification.overdue",
        "created_at": body["created_at"],
        "property_id": org.property_id,
        "record_table": "rectification_orders",
        "record_id": "order-7",
        "title_zh": "整改单已逾期",
        "title_en": "Rectification overdue",
        "body_zh": "配电房门锁损坏",
        "body_en": "Switch room lock broken",
        "data": {"step": "overdue"},
    }
    assert datetime.fromisoformat(body["created_at"]) < clock.at
    assert len({p["body"] for p in receiver.posts}) == 1  # the same body every time, only the timestamp moves


async def test_a_signature_made_with_another_secret_is_refused_by_the_receiver(db, settings):
    org = await build_org(db, "wh2")
    with Receiver() as receiver:
        await add_webhook(db, org, receiver.url, Egress.of(settings))
        receiver.secret = "not-the-webhook-s-secret"
        async with db.transaction():
            await notice(db, org, "order-8")
        await run_job(settings, "deliver_notifications")
    assert [(p["signed"], p["status"]) for p in receiver.posts] == [(False, 401)]
    assert (await delivery(db))["last_error"] == "HTTP 401: no"


@pytest.mark.parametrize("failure", ["answers 503", "refuses connections"])
async def test_a_receiver_that_always_fails_is_given_up_on_after_the_last_attempt(db, settings, failure):
    settings = msgspec.structs.replace(settings, webhook_max_attempts=4)
    org = await build_org(db, "wh3")
    with Receiver(answers=[503] * 10) as receiver:
        url = receiver.url if failure == "answers 503" else f"http://127.0.0.1:{free_port()}/hook"
        receiver.secret = await add_webhook(db, org, url, Egress.of(settings))
        async with db.transaction():
            await notice(db, org, "order-9", recipients=[org.ids["staff"]])
        clock = FixedClock(datetime.now(UTC) + timedelta(seconds=1))
        for _ in range(6):
            await run_job(settings, "deliver_notifications", clock)
            clock.advance(hours=1)
    dead = await db.fetchrow(
        "SELECT status, attempts, last_error FROM notification_deliveries WHERE channel LIKE 'webhook:%'"
    )
    assert (dead["status"], dead["attempts"]) == ("dead", 4)
    if failure == "answers 503":
        assert dead["last_error"] == "HTTP 503: no" and len(receiver.posts) == 4
    else:
        assert dead["last_error"].startswith("ConnectError") and receiver.posts == []
    # the inbox copy of the same notice is not held back by the failing webhook
    assert await db.fetchval("SELECT status FROM notification_deliveries WHERE channel LIKE 'inbox:%'") == "delivered"


async def delivered_count(db, wanted: int) -> bool:
    return await db.fetchval("SELECT count(*) FROM notification_deliveries WHERE status = 'delivered'") == wanted


def start_worker(settings, home, log: Path) -> subprocess.Popen:
    """`fieldwork worker` as its own process on the test's database, Redis namespace and queue."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("FIELDWORK_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url,
        FIELDWORK_NAMESPACE=settings.namespace,
        FIELDWORK_HOME=str(home),
        FIELDWORK_SECRET_KEY=settings.secret_key,
        FIELDWORK_LOG_LEVEL="INFO",
        FIELDWORK_WEBHOOK_TIMEOUT_SECONDS="5",
        FIELDWORK_WEBHOOK_ALLOW_NETWORKS=settings.webhook_allow_networks,
    )
    with log.open("w") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "cli", "worker"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


async def wait_for(predicate, seconds: float, what: str) -> None:
    """Poll a condition (a plain or an async function) until it holds, failing after `seconds`."""
    deadline = time.monotonic() + seconds
    while not ((await result) if inspect.isawaitable(result := predicate()) else result):
        assert time.monotonic() < deadline, f"timed out after {seconds}s waiting for {what}"
        await asyncio.sleep(0.05)


async def test_a_worker_killed_mid_backlog_loses_nothing_and_its_successor_sends_each_notice_once(
    db, settings, tmp_path
):
    org = await build_org(db, "wh4")
    total = 200
    with Receiver(delay=0.02) as receiver:
        receiver.secret = await add_webhook(db, org, receiver.url, Egress.of(settings))
        async with db.transaction():
            for n in range(total):
                await notice(db, org, f"order-{n:03d}")
        expected = {r["id"] for r in await db.fetch("SELECT id FROM notifications")}
        assert len(expected) == total

        logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
        first = start_worker(settings, tmp_path, logs[0])
        second = None
        try:
            await wait_for(lambda: len(receiver.acted_on) >= 40, 30, "the first worker to deliver")
            first.send_signal(signal.SIGKILL)
            assert first.wait(10) == -signal.SIGKILL
            at_kill = len(receiver.acted_on)
            assert at_kill < total, "the first worker finished before it could be killed: slow the receiver down"
            assert not await delivered_count(db, total)

            second = start_worker(settings, tmp_path, logs[1])
            await wait_for(lambda: delivered_count(db, total), 50, "every delivery to be made")
            await wait_for(lambda: "notifications: delivered" in logs[1].read_text(), 10, "the successor's report")
        except AssertionError as exc:
            states = await db.fetch("SELECT status, count(*) FROM notification_deliveries GROUP BY status")
            tails = "\n".join(f"--- {log.name}\n" + log.read_text()[-3000:] for log in logs if log.exists())
            raise AssertionError(f"{exc}\ndeliveries: {[tuple(r) for r in states]}\n{tails}") from None
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(20)

    raw = Counter(p["delivery"] for p in receiver.posts)
    duplicates = sum(raw.values()) - len(raw)
    print(f"killed after {at_kill} of {total} deliveries; raw duplicate POSTs: {duplicates}")
    # after the receiver's dedupe, each notification exactly once; before it, at most the one in flight twice
    assert set(receiver.acted_on) == expected and set(receiver.acted_on.values()) == {1}
    assert duplicates <= 1, raw.most_common(3)
    assert all(p["signed"] for p in receiver.posts)
    successor = logs[1].read_text()
    assert "Traceback" not in successor, successor


async def test_a_slow_receiver_does_not_hold_back_phones_sync_cursors(db, settings):
    """No transaction stays open while a webhook answers: the cluster's xmin (every pull's cursor) moves on."""
    org = await build_org(db, "wh5")
    with Receiver(delay=5.0) as receiver:
        receiver.secret = await add_webhook(db, org, receiver.url, Egress.of(settings))
        async with db.transaction():
            await notice(db, org, "slow-one")
        leased_from = await db.fetchval("SELECT next_attempt_at FROM notification_deliveries")
        delivering = asyncio.create_task(run_job(settings, "deliver_notifications"))
        await wait_for(
            lambda: db.fetchval("SELECT next_attempt_at > $1 FROM notification_deliveries", leased_from),
            10,
            "the delivery to be leased",
        )
        fence = await db.fetchval("SELECT pg_current_xact_id()::text::bigint")
        deadline = asyncio.get_running_loop().time() + 3
        while await db.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint") <= fence:
            assert asyncio.get_running_loop().time() < deadline, "a transaction is held open during the POST"
            await asyncio.sleep(0.05)
        assert not delivering.done(), "the POST should still be waiting on the receiver"
        await delivering
    assert await db.fetchval("SELECT status FROM notification_deliveries") == "delivered"
    assert list(receiver.acted_on.values()) == [1]
