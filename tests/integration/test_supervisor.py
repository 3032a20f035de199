"""`fieldwork up`'s supervisor: a child that dies is started again after a growing delay, with a log line,
while the others keep running; stopping stops them all and starts nothing again."""

import logging
import sys
import time

from core.supervisor import Child, Supervisor


def test_a_dead_child_is_started_again_with_backoff_and_the_others_keep_running(tmp_path, caplog):
    starts = tmp_path / "starts"
    crashing = Child("worker", [sys.executable, "-c", f"open({str(starts)!r}, 'a').write('x'); raise SystemExit(3)"])
    steady = Child("API", [sys.executable, "-c", "import time; time.sleep(120)"])
    supervisor = Supervisor([steady, crashing], env={})
    caplog.set_level(logging.INFO, logger="fieldwork.supervisor")
    supervisor.start()
    try:
        assert steady.process is not None
        first_pid = steady.process.pid
        began = time.monotonic()
        deadline = began + 30
        while not starts.exists() or starts.read_text().count("x") < 3:  # again after 1 s, then after 2 s
            assert time.monotonic() < deadline, "the dead child was not started again"
            supervisor.check()
            time.sleep(0.05)
        assert time.monotonic() - began >= 1 + 2, "the restarts should back off"
        assert steady.process.pid == first_pid and steady.process.poll() is None
        assert "the worker exited (code 3)" in caplog.text and "starting it again in 2 s" in caplog.text
        assert "starting the worker again (restart 2)" in caplog.text
    finally:
        supervisor.stop()
    assert steady.process.poll() is not None, "stop() ends every child"
    supervisor.check()
    supervisor.check()
    assert crashing.restarts == 2, "nothing starts again once stopping"
