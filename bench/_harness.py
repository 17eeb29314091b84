"""Shared set-up for the benchmarks: a real Redis, the WDT simulator over HTTP, a fresh database (PostgreSQL when
the machine has it, else SQLite) migrated by the app's migrations, and the bench merchant connected to the simulator."""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
os.environ.setdefault("WDTPANEL_INSTANCE_DIR", tempfile.mkdtemp(prefix="wdtpanel-bench-instance-"))

from wdtpanel.devserver import free_port, start_bundled_redis, wait_for_port  # noqa: E402


def fresh_database(name: str, workdir: Path) -> str:
    """An empty PostgreSQL database of its own (benchmarks may run side by side), or SQLite without PostgreSQL."""
    try:
        url = subprocess.run(
            ["bash", str(ROOT / "tests/services.sh"), "postgres", f"wdtpanel_bench_{name}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return url.replace("postgresql://", "postgresql+psycopg://")
    except (subprocess.CalledProcessError, FileNotFoundError):
        return f"sqlite:///{workdir / f'{name}.db'}"


def prepare_schema(app) -> tuple[str, str]:
    """Migrate the app's database and make the bench merchant, switched on an hour ago. Returns its API key and
    secret."""
    import flask_migrate

    from wdtpanel.cli import ensure_merchant, simulator_config
    from wdtpanel.extensions import db
    from wdtpanel.merchant_config import load_config, save_config

    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        merchant, secret = ensure_merchant("bench", "bench")
        save_config(merchant.id, None, simulator_config())
        load_config(merchant.id).enabled_at = datetime.now(UTC) - timedelta(hours=1)
        db.session.commit()
        return merchant.api_key, secret


class Environment:
    """Redis and the simulator as processes, a fresh database, settings in os.environ; torn down at exit."""

    def __init__(self, name: str, simulator_args: list[str] | None = None, sqlite: bool = False):
        from cryptography.fernet import Fernet

        self.workdir = Path(tempfile.mkdtemp(prefix="wdtpanel-bench-"))
        atexit.register(shutil.rmtree, self.workdir, True)
        self.processes: list[subprocess.Popen] = []
        atexit.register(self.stop)
        redis_port, self.simulator_port = free_port(), free_port()
        self.processes.append(start_bundled_redis(redis_port, self.workdir / "redis"))
        self.processes.append(
            subprocess.Popen(
                [
                    str(BIN / "python"),
                    "-m",
                    "wdtpanel.simulator",
                    "--port",
                    str(self.simulator_port),
                    *(simulator_args or []),
                ],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_for_port(self.simulator_port)
        self.simulator_url = f"http://127.0.0.1:{self.simulator_port}"
        self.database_url = f"sqlite:///{self.workdir / 'bench.db'}" if sqlite else fresh_database(name, self.workdir)
        self.env = {
            **os.environ,
            "SECRET_KEY": "bench",
            "WDTPANEL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "WDTPANEL_EMBED_SECRET": "bench",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "DATABASE_URL": self.database_url,
            "WDT_SIMULATOR_URL": self.simulator_url,
            "WDT_CALLS_PER_MINUTE": "100000",
            "PYTHONPATH": str(ROOT),
        }
        os.environ.update(self.env)

    @property
    def database_kind(self) -> str:
        return "PostgreSQL" if self.database_url.startswith("postgresql") else "SQLite"

    def app(self, **config):
        from wdtpanel import create_app

        return create_app(config)

    def start_workers(self, count: int, extra_env: dict | None = None, burst: bool = True) -> list[subprocess.Popen]:
        env = {**self.env, **(extra_env or {})}
        return [
            subprocess.Popen(
                [
                    str(BIN / "rq"),
                    "worker",
                    *(["--burst"] if burst else []),
                    "--url",
                    env["REDIS_URL"],
                    "-q",
                    "--worker-class",
                    "wdtpanel.worker.AppWorker",
                    "wdt",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(count)
        ]

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()


def start(name: str, counts: dict[str, int], **config):
    """A benchmark's start: its whole-number options (--option, default), its Environment, and its app (with
    `config`) with the schema prepared."""
    parser = argparse.ArgumentParser()
    for option, default in counts.items():
        parser.add_argument(f"--{option}", type=int, default=default)
    args = parser.parse_args()
    env = Environment(name)
    app = env.app(**config)
    prepare_schema(app)
    return args, env, app
