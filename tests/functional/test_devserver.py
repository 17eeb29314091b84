"""`make run` keeps its processes up: one that dies (kill -9 included) is started again."""

from __future__ import annotations

import io
import os
import signal
import sys
import time

from wdtpanel import devserver


def wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_killed_process_is_restarted_and_its_output_is_labelled(monkeypatch):
    monkeypatch.setattr(devserver, "RESTART_DELAYS", (0,))
    out = io.StringIO()
    sleeper = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]
    supervisor = devserver.Supervisor({"worker": sleeper}, dict(os.environ), out)
    child = supervisor.children[0]
    supervisor.start(child)
    try:
        assert wait_until(lambda: "worker | up" in out.getvalue())
        first = child.process.pid
        os.kill(first, signal.SIGKILL)
        assert wait_until(lambda: (supervisor.check(), child.process.pid != first)[1])
        assert wait_until(lambda: out.getvalue().count("worker | up") == 2)
        assert "worker | exited with -9; restarting in 0 s" in out.getvalue()
    finally:
        supervisor.stop()
    assert child.process.poll() is not None


def test_a_process_that_keeps_dying_waits_longer_each_time(monkeypatch):
    monkeypatch.setattr(devserver, "RESTART_DELAYS", (0, 0, 7))
    supervisor = devserver.Supervisor(
        {"cron": [sys.executable, "-c", "raise SystemExit(3)"]}, dict(os.environ), io.StringIO()
    )
    child = supervisor.children[0]
    supervisor.start(child)
    try:
        assert wait_until(lambda: (supervisor.check(), child.failures == 3)[1])
        assert child.restart_at is not None and child.restart_at - time.monotonic() > 5  # third delay: 7 s
    finally:
        supervisor.stop()
