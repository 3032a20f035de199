"""A request that meets PostgreSQL or Redis unreachable answers 503 problem+json with Retry-After (not 500),
/health says `degraded`, and both recover by themselves once the server is back.

The app reaches both servers through TCP proxies the test can cut: new connections are refused and live ones
dropped, as when a server restarts, without touching the machine's servers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import msgspec
import pytest
from redis.asyncio import Redis

from core.db import connect
from core.heartbeat import beat
from tests.world import PASSWORD, build_org, login


class Cuttable:
    """A TCP proxy, on a port of its own, to a server's URL (TCP or a unix socket: the embedded servers');
    cut() refuses new connections and drops live ones, open() listens again on the same port."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        if parts.scheme == "unix":  # redis unix:///path/to/socket
            self.socket: str | None = parts.path
        elif "host" in query:  # postgresql://user@/db?host=/socket/dir
            self.socket = f"{query['host'][0]}/.s.PGSQL.{parts.port or 5432}"
        else:
            self.socket = None
        self.target = (parts.hostname or "127.0.0.1", parts.port or 0)
        self.scheme, self.user, self.path = parts.scheme.replace("unix", "redis"), parts.username, parts.path
        self.port = 0
        self.server: asyncio.Server | None = None
        self.live: set[asyncio.StreamWriter] = set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self.socket:
            server_reader, server_writer = await asyncio.open_unix_connection(self.socket)
        else:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        self.live |= {client_writer, server_writer}
        await asyncio.gather(self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer))

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    def cut(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in self.live:
            writer.transport.abort()
        self.live.clear()

    @property
    def url(self) -> str:
        """The server's URL, through the proxy."""
        user = f"{self.user}@" if self.user else ""
        path = self.path if self.scheme != "redis" else "/0"
        return f"{self.scheme}://{user}127.0.0.1:{self.port}{path}"


async def proxy_to(url: str) -> Cuttable:
    proxy = Cuttable(url)
    await proxy.open()
    return proxy


@pytest.fixture
async def proxies(settings) -> AsyncIterator[dict[str, Cuttable]]:
    made = {"postgres": await proxy_to(settings.database_url), "redis": await proxy_to(settings.redis_url)}
    yield made
    for proxy in made.values():
        proxy.cut()


@pytest.fixture
def settings(settings, proxies):  # the app under test reaches its servers through the proxies
    return msgspec.structs.replace(
        settings,
        database_url=proxies["postgres"].url,
        redis_url=proxies["redis"].url,
    )


@pytest.fixture
async def direct(database_url):
    """A connection around the proxies, for arranging data."""
    conn = await connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def redis(servers):
    client = Redis.from_url(servers[1])
    yield client
    await client.aclose()


def assert_unavailable(response, dependency: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["type"] == "/problems/unavailable" and body["code"] == "unavailable" and body["status"] == 503
    assert body["dependency"] == dependency and body["title_zh"]


async def test_requests_answer_503_while_postgres_is_unreachable_and_recover(api, direct, proxies, redis, settings):
    org = await build_org(direct, "pgdown")
    headers = await login(api, org, "admin")
    await beat(redis, settings.namespace)
    assert (await api.get("/properties", headers=headers)).status_code == 200

    proxies["postgres"].cut()
    assert_unavailable(await api.get("/properties", headers=headers), "PostgreSQL")
    assert_unavailable(
        await api.post("/auth/login", json={"login": org.email("staff"), "password": PASSWORD}), "PostgreSQL"
    )
    health = await api.get("/health")
    assert health.status_code == 503
    assert (
        health.json()["status"] == "degraded" and not health.json()["database"]["ok"] and health.json()["redis"]["ok"]
    )

    await proxies["postgres"].open()  # the server is back: the pool opens new connections by itself
    assert (await api.get("/properties", headers=headers)).status_code == 200
    assert (await api.get("/health")).json()["status"] == "ok"


async def test_logins_answer_503_while_redis_is_unreachable_and_recover(api, direct, proxies, redis, settings):
    org = await build_org(direct, "rddown")
    await beat(redis, settings.namespace)
    await login(api, org, "admin")

    proxies["redis"].cut()
    assert_unavailable(await api.post("/auth/login", json={"login": org.email("admin"), "password": PASSWORD}), "Redis")
    health = await api.get("/health")
    assert health.status_code == 503 and not health.json()["redis"]["ok"] and health.json()["database"]["ok"]
    assert not health.json()["worker"]["ok"]  # nobody can tell while Redis is away

    await proxies["redis"].open()
    await login(api, org, "admin")
    assert (await api.get("/health")).status_code == 200
