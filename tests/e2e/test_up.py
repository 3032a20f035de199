"""`fieldwork up` on the embedded default: API and worker start, answer, and everything stops on Ctrl-C."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if result := predicate():
                return result
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def servers_under(home: Path) -> list[psutil.Process]:
    """Embedded postgres (`-D home/pg`) and redis-server (working directory home/redis) still running."""
    found = []
    for proc in psutil.process_iter(["cmdline", "name"]):
        try:
            if any(str(home) in part for part in proc.info["cmdline"] or []) or (
                "redis" in (proc.info["name"] or "") and str(home) in proc.cwd()
            ):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


@pytest.fixture
def home():
    # postgres runs as an unprivileged user when we are root: the directory must be reachable by it
    path = Path(tempfile.mkdtemp(prefix="fw-up-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


@pytest.mark.parametrize("ctrl_c", ["process", "terminal"])
def test_up_serves_health_and_openapi_then_stops_cleanly(home, ctrl_c):
    """Ctrl-C in a terminal signals the whole process group; `kill -INT` only the process. Both stop cleanly."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "FIELDWORK_SECRET_KEY")}
    env.update(FIELDWORK_HOME=str(home), FIELDWORK_PORT=str(port))
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "up"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    failure = None
    try:
        health = poll(
            lambda: (r := httpx.get(f"{base}/health", timeout=2)).status_code == 200 and r.json(), 90, "/health"
        )
        assert health["database"]["ok"] and health["redis"]["ok"]
        openapi = httpx.get(f"{base}/schema/openapi.json", timeout=5)
        assert openapi.status_code == 200 and "/auth/login" in openapi.json()["paths"]
        # the worker runs beside the API and beats
        poll(
            lambda: httpx.get(f"{base}/health", timeout=2).json()["worker_heartbeat_age_s"] is not None,
            30,
            "the worker heartbeat",
        )
        assert servers_under(home), "the embedded servers should be running under FIELDWORK_HOME"
        # the README tour on the embedded servers (Redis 6.2 there, unlike CI's own server)
        demo = subprocess.run(
            [sys.executable, "-m", "cli", "demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert demo.returncode == 0, demo.stderr
        signed_in = httpx.post(
            f"{base}/auth/login", timeout=10, json={"login": "admin@demo.fieldwork.local", "password": "fieldwork-demo"}
        )
        assert signed_in.status_code == 200, signed_in.text
        token = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        assert len(httpx.get(f"{base}/properties", headers=token, timeout=10).json()["items"]) == 1
        wrong = httpx.post(f"{base}/auth/login", json={"login": "admin@demo.fieldwork.local", "password": "nope-nope"})
        assert wrong.status_code == 401
        if ctrl_c == "process":
            # the demo's staff phones sync a shift of offline work through the reference client
            shift = subprocess.run(
                [sys.executable, "-m", "cli", "simulate", "--devices", "4", "--rounds", "4"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=180,
            )
            assert shift.returncode == 0, shift.stderr
            assert json.loads(shift.stdout)["syncs"] > 0 and "every phone is in sync" in shift.stderr
    except AssertionError as exc:
        failure = exc
    finally:
        if ctrl_c == "terminal":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    if failure is not None:  # with what `fieldwork up` said meanwhile, which the failure alone does not show
        raise AssertionError(f"{failure}\n--- fieldwork up said:\n{output}") from failure
    assert proc.returncode == 0, output
    assert "Traceback" not in output, output
    poll(lambda: not servers_under(home), 20, "the embedded servers to stop")


def test_a_bad_setting_stops_the_program_naming_the_variable(tmp_path):
    env = {**os.environ, "FIELDWORK_HOME": str(tmp_path), "FIELDWORK_PORT": "not-a-port"}
    result = subprocess.run(
        [sys.executable, "-m", "cli", "serve"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "FIELDWORK_PORT" in result.stderr and "TCP port" in result.stderr
