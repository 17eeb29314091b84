"""Shared set-up for the benchmarks: a real Redis, the WDT simulator over HTTP, PostgreSQL when the
machine has it (else SQLite), a migrated database and a demo merchant connected to the simulator."""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

from wdtpanel.devserver import free_port, start_bundled_redis, wait_for_port  # noqa: E402


def database_url(workdir: Path) -> str:
    try:
        name = "wdtpanel_bench_" + Path(sys.argv[0]).stem  # one database per benchmark: they may run side by side
        return subprocess.run(["bash", str(ROOT / "tests/services.sh"), "postgres", name], check=True,
                              capture_output=True, text=True).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return f"sqlite:///{workdir / 'bench.db'}"


class Environment:
    """Everything a benchmark needs, torn down at exit."""

    def __init__(self, simulator_args: list[str] | None = None):
        from cryptography.fernet import Fernet

        self.workdir = Path(tempfile.mkdtemp(prefix="wdtpanel-bench-"))
        atexit.register(shutil.rmtree, self.workdir, True)
        self.processes: list[subprocess.Popen] = []
        atexit.register(self.stop)
        redis_port, self.simulator_port = free_port(), free_port()
        self.processes.append(start_bundled_redis(redis_port, self.workdir / "redis"))
        self.processes.append(subprocess.Popen(
            [str(BIN / "python"), "-m", "wdtpanel.simulator", "--port", str(self.simulator_port),
             *(simulator_args or [])], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for_port(self.simulator_port)
        self.simulator_url = f"http://127.0.0.1:{self.simulator_port}"
        self.env = {**os.environ, "WDTPANEL_INSTANCE_DIR": str(self.workdir), "SECRET_KEY": "bench",
                    "WDTPANEL_ENCRYPTION_KEYS": Fernet.generate_key().decode(), "WDTPANEL_EMBED_SECRET": "bench",
                    "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "DATABASE_URL": database_url(self.workdir),
                    "WDT_SIMULATOR_URL": self.simulator_url}
        os.environ.update(self.env)
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=self.env, check=True,
                       capture_output=True)

    def app(self, **config):
        from wdtpanel import create_app

        return create_app(config)

    def connected_merchant(self, logistics=()):
        """The bench merchant, connected to the simulator's demo account and switched on an hour ago.
        Call inside an app context."""
        from datetime import datetime, timedelta, timezone

        from wdtpanel.cli import DEMO_WDT, ensure_merchant
        from wdtpanel.extensions import db
        from wdtpanel.merchant_config import ConfigInput, load_config, save_config

        merchant, _ = ensure_merchant("bench", "bench")
        if load_config(merchant.id) is None:
            save_config(merchant.id, None, ConfigInput(edition="enterprise", environment="custom",
                                                       custom_base_url=self.simulator_url, enabled=True,
                                                       logistics=list(logistics), **DEMO_WDT))
            load_config(merchant.id).enabled_at = datetime.now(timezone.utc) - timedelta(hours=1)
            db.session.commit()
        return merchant

    def start_workers(self, count: int, extra_env: dict | None = None) -> list[subprocess.Popen]:
        env = {**self.env, **(extra_env or {})}
        return [subprocess.Popen([str(BIN / "rq"), "worker", "--burst", "--url", env["REDIS_URL"], "-q",
                                  "--worker-class", "wdtpanel.worker.AppWorker", "wdt"],
                                 cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for _ in range(count)]

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
