"""Test infrastructure: a real PostgreSQL and a real Redis.

TEST_DATABASE_URL / TEST_REDIS_URL name servers to use (CI sets them to the machine's own); without them the
embedded ones start under .fieldwork-test. Each test gets a fresh database cloned from a migrated template and
its own Redis key namespace, so tests are isolated and run in parallel (pytest -n).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import uvicorn

from api.app import create_app
from core.clock import Clock
from core.db import connect
from core.egress import Resolver
from core.embedded import embedded_services
from core.migrate import migrate
from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def servers() -> Iterator[tuple[str, str]]:
    db, redis = os.environ.get("TEST_DATABASE_URL"), os.environ.get("TEST_REDIS_URL")
    with embedded_services(ROOT / ".fieldwork-test", postgres=not db, redis=not redis) as embedded:
        yield (db or embedded.database_url or "", redis or embedded.redis_url or "")


@pytest.fixture(scope="session")
def template_db(servers: tuple[str, str]) -> Iterator[str]:
    """A database with every migration applied, cloned for each test."""
    admin_url = servers[0]
    name = f"fwt_tpl_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        admin = await connect(admin_url)
        await admin.execute(f"CREATE DATABASE {name}")
        await admin.close()
        conn = await connect(with_database(admin_url, name))
        await migrate(conn)
        await conn.close()

    async def drop() -> None:
        admin = await connect(admin_url)
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()

    asyncio.run(create())
    yield name
    asyncio.run(drop())


@contextlib.asynccontextmanager
async def scratch_database(admin_url: str, template: str = "template1") -> AsyncIterator[str]:
    """A new database (a copy of `template`) for one test, dropped afterwards; yields its URL."""
    name = f"fwt_{uuid.uuid4().hex[:16]}"
    admin = await connect(admin_url)
    await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        yield with_database(admin_url, name)
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


@pytest.fixture
async def database_url(servers: tuple[str, str], template_db: str) -> AsyncIterator[str]:
    async with scratch_database(servers[0], template_db) as url:
        yield url


@pytest.fixture
def settings(database_url: str, servers: tuple[str, str], tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=servers[1],
        home=str(tmp_path),
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        namespace=f"t{uuid.uuid4().hex[:12]}",
        log_level="WARNING",
        db_pool_size=4,
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator:
    """A plain connection to the test's database (for arranging data and checking what was stored)."""
    assert settings.database_url
    conn = await connect(settings.database_url)
    yield conn
    await conn.close()


@pytest.fixture
def clock() -> Clock | None:
    """The app's clock: the system's; a test module overrides this fixture to fix the time."""
    return None


@pytest.fixture
def resolver() -> Resolver | None:
    """How the app finds a webhook host's addresses: the system's; a test module overrides this fixture to
    give names of its own (core/egress.py)."""
    return None


@pytest.fixture
async def api(settings: Settings, clock: Clock | None, resolver: Resolver | None) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the real app on a real socket, served by uvicorn in this event loop."""
    async with serve(create_app(settings, clock=clock, resolve=resolver)) as client:
        yield client


@contextlib.asynccontextmanager
async def serve(app: object) -> AsyncIterator[httpx.AsyncClient]:
    """Serve `app` with uvicorn on a free port in this event loop; yields an HTTP client for it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # as `fieldwork serve` runs it: the app alone decides whom to believe about the client's address
    config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False, proxy_headers=False)
    server = uvicorn.Server(config)
    try:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
        server.should_exit = True
        await task
    finally:
        sock.close()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible server (moto), on a free port for the session."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new bucket, and the AWS_* variables that reach it; yields its s3:// URL (FIELDWORK_PHOTO_STORE)."""
    import boto3

    for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    bucket = f"photos-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return f"s3://{bucket}/fieldwork"
