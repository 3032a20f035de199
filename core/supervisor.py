"""`fieldwork up`'s supervisor: the API and the worker as child processes, a dead one started again.

A child that exits while the supervisor runs is started again after 1, 2, 4 … 30 s (back to 1 s once a
life lasted a minute), with a log line each time: one crash, or a child that gave up while a server
restarted, is not an outage of the rest. SIGINT/SIGTERM stop every child (SIGTERM, then SIGKILL after
STOP_TIMEOUT) and nothing is started again.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

log = logging.getLogger("fieldwork.supervisor")

FIRST_DELAY = 1.0
MAX_DELAY = 30.0
STEADY = 60.0
STOP_TIMEOUT = 15.0


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    delay: float = FIRST_DELAY
    restart_at: float | None = None
    restarts: int = 0


class Supervisor:
    def __init__(self, children: Sequence[Child], env: Mapping[str, str]) -> None:
        self.children = list(children)
        self.env = dict(env)
        self.stopping = False

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        # own sessions: Ctrl-C in the terminal reaches only the supervisor, which stops the children in order
        child.process = subprocess.Popen(child.argv, env=self.env, start_new_session=True)
        child.started_at = time.monotonic()
        child.restart_at = None

    def check(self) -> None:
        """Notice children that died, and start those whose backoff has passed. Call it every few tenths."""
        now = time.monotonic()
        for child in self.children:
            if self.stopping:
                return
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    log.warning("starting the %s again (restart %d)", child.name, child.restarts)
                    self._spawn(child)
                continue
            assert child.process is not None
            code = child.process.poll()
            if code is None:
                continue
            if now - child.started_at >= STEADY:
                child.delay = FIRST_DELAY
            log.error(
                "the %s exited (code %s) after %.0f s; starting it again in %.0f s",
                child.name,
                code,
                now - child.started_at,
                child.delay,
            )
            child.restart_at = now + child.delay
            child.delay = min(MAX_DELAY, child.delay * 2)

    def stop(self) -> None:
        """SIGTERM every running child, wait for them (SIGKILL after STOP_TIMEOUT); start nothing again."""
        self.stopping = True
        running = [c.process for c in self.children if c.process is not None]
        for process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
