"""What the benchmarks share: scratch databases, servers in child processes, RSS sampling, the result table.

BENCH_DATABASE_URL (an admin URL: it creates and drops databases) and BENCH_REDIS_URL name the servers.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psutil

from core.db import connect
from core.migrate import migrate

ROOT = Path(__file__).resolve().parent.parent
POUCHDB = ROOT / "bench" / "pouchdb"
ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
MB = 1024 * 1024


def say(message: str) -> None:
    """Progress, on stderr: stdout is kept for the results."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextlib.asynccontextmanager
async def scratch_database(admin_url: str = ADMIN_URL, template: str | None = None) -> AsyncIterator[str]:
    """A new database, migrated (or a copy of `template`), dropped afterwards; yields its URL."""
    name = f"fieldwork_bench_{uuid.uuid4().hex[:12]}"
    admin = await connect(admin_url)
    try:
        await admin.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        url = with_database(admin_url, name)
        if template is None:
            conn = await connect(url)
            try:
                await migrate(conn)
            finally:
                await conn.close()
        yield url
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{url}: the server exited ({process.returncode}); see {log}:\n{log.read_text()[-3000:]}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {deadline_s:.0f} s; see {log}")


@contextlib.contextmanager
def _child(argv: list[str], *, cwd: Path, env: dict[str, str], url: str, ready: str, log: Path) -> Iterator[Server]:
    """A server in a child process, up once GET url+ready answers 200; stopped (SIGTERM) afterwards."""
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_until_up(url + ready, process, log)
            yield Server(url=url, pid=process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def fieldwork_server(database_url: str, home: Path, *, redis_url: str = REDIS_URL) -> Iterator[Server]:
    """`python -m cli serve` on a free port, as deployed: its own process, default settings otherwise."""
    port = free_port()
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "FIELDWORK_HOME": str(home),
        "FIELDWORK_PORT": str(port),
        "FIELDWORK_NAMESPACE": namespace,
        "FIELDWORK_SECRET_KEY": secrets.token_urlsafe(48),
        "FIELDWORK_ACCESS_TOKEN_TTL": "86400",  # outlive a long run
    }
    home.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "cli", "serve"]
    url = f"http://127.0.0.1:{port}"
    with (
        beating_for_a_worker(redis_url, namespace),
        _child(argv, cwd=ROOT, env=env, url=url, ready="/health", log=home / "server.log") as server,
    ):
        yield server


@contextlib.contextmanager
def beating_for_a_worker(redis_url: str, namespace: str) -> Iterator[None]:
    """The worker heartbeat, from a thread. The benchmarks measure the API alone (a worker would compete
    for the CPU), and /health answers 200 only while a worker beats: this keeps its ok path measured."""
    import redis

    from core.heartbeat import HEARTBEAT, KEEP, heartbeat_key

    client = redis.Redis.from_url(redis_url)
    stop = threading.Event()

    def beat() -> None:
        while not stop.is_set():
            client.set(heartbeat_key(namespace), b"1", ex=KEEP)
            stop.wait(HEARTBEAT)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        client.delete(heartbeat_key(namespace))
        client.close()


def pouchdb_bin() -> Path:
    """pouchdb-server from bench/pouchdb, installed from its lock file on first use."""
    binary = POUCHDB / "node_modules" / "pouchdb-server" / "bin" / "pouchdb-server"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("the pouchdb-server baseline needs node and npm (node 18 or newer)")
        say("installing pouchdb-server: npm ci --prefix bench/pouchdb")
        subprocess.run([npm, "ci", "--prefix", str(POUCHDB), "--no-audit", "--no-fund"], check=True)
    return binary


@contextlib.contextmanager
def pouchdb_server(home: Path) -> Iterator[Server]:
    """pouchdb-server on a free port, its LevelDB files (on disk, not in memory) and config under `home`."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("the pouchdb-server baseline needs node (18 or newer)")
    binary, port = pouchdb_bin(), free_port()
    home.mkdir(parents=True, exist_ok=True)
    argv = [node, str(binary), "--host", "127.0.0.1", "--port", str(port), "--dir", str(home / "data")]
    argv += ["--config", str(home / "config.json"), "--no-stdout-logs"]
    url = f"http://127.0.0.1:{port}"
    with _child(argv, cwd=home, env=dict(os.environ), url=url, ready="/", log=home / "stdout.log") as server:
        yield server


class RssSampler:
    """Samples a process's resident set every `interval` seconds in a thread; `growth` = peak − baseline."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.baseline = self.peak = self.process.memory_info().rss
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def median(values: list[float]) -> float:
    return percentile(values, 50)


@dataclass(frozen=True)
class Result:
    metric: str
    fieldwork: str
    baseline: str
    ratio: str
    target: str
    passed: bool | None  # None: informative, no target

    @property
    def verdict(self) -> str:
        return "—" if self.passed is None else ("pass" if self.passed else "FAIL")

    def cells(self) -> list[str]:
        return [self.metric, self.fieldwork, self.baseline, self.ratio, self.target, self.verdict]


HEADER = ["metric", "fieldwork", "baseline", "ratio", "target", "result"]


def text_table(results: list[Result]) -> str:
    rows = [HEADER, *(r.cells() for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(results: list[Result]) -> str:
    rows = [HEADER, ["---"] * len(HEADER), *(r.cells() for r in results)]
    return "\n".join("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows)


def print_results(results: list[Result], notes: str, module: str) -> int:
    """The table and its notes, then the same as markdown for docs/benchmarks.md under the command that made it;
    returns the exit status: 1 when a target is missed."""
    print(text_table(results))
    print(f"\n{notes}\n")
    print(f"Markdown (`{' '.join([f'.venv/bin/python -m {module}', *sys.argv[1:]])}`):\n")
    print(markdown_table(results))
    print(f"\n{notes}")
    return 0 if all(r.passed is not False for r in results) else 1
