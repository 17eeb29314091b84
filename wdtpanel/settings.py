"""Settings read from the environment, with safe defaults for development."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

INSTANCE_DIR = Path(os.environ.get("WDTPANEL_INSTANCE_DIR", Path(__file__).resolve().parent.parent / "instance"))
REDIS_URL_FILE = INSTANCE_DIR / "redis_url"  # written by `make run` for the Redis it started


def _dev_file_secret(name: str, make) -> str:
    """Read a development secret from instance/, creating it on first run."""
    path = INSTANCE_DIR / name
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _redis_started_by_make_run() -> str | None:
    return REDIS_URL_FILE.read_text().strip() if REDIS_URL_FILE.exists() else None


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


class Settings:
    """Every setting the README documents; production requires the secret ones."""

    def __init__(self) -> None:
        env = os.environ
        self.ENV_NAME = env.get("WDTPANEL_ENV", "development")
        production = self.ENV_NAME == "production"

        def secret(name: str, filename: str, make) -> str:
            value = env.get(name)
            if value:
                return value
            if production:
                raise RuntimeError(f"{name} must be set in production")
            return _dev_file_secret(filename, make)

        self.SECRET_KEY = secret("SECRET_KEY", "secret_key", lambda: os.urandom(32).hex())
        # Comma-separated Fernet keys; the first encrypts, all decrypt (rotation).
        self.ENCRYPTION_KEYS = secret(
            "WDTPANEL_ENCRYPTION_KEYS", "encryption_key", lambda: Fernet.generate_key().decode()
        ).split(",")
        self.EMBED_SECRET = secret("WDTPANEL_EMBED_SECRET", "embed_secret", lambda: os.urandom(32).hex())
        self.EMBED_TOKEN_MAX_AGE = int(env.get("WDTPANEL_EMBED_TOKEN_MAX_AGE", "120"))

        database_url = env.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'wdtpanel.db'}")
        if database_url.startswith("postgres://"):
            database_url = "postgresql://" + database_url[len("postgres://") :]
        if database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
        self.SQLALCHEMY_DATABASE_URI = database_url
        # Connections idle for a while are pinged first: extensions.py
        self.SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
        self.REDIS_URL = env.get("REDIS_URL") or _redis_started_by_make_run() or "redis://127.0.0.1:6379/0"
        self.RQ_QUEUE = env.get("WDTPANEL_RQ_QUEUE", "wdt")

        self.TIMEZONE = env.get("WDTPANEL_TIMEZONE", "Asia/Shanghai")
        self.BABEL_DEFAULT_LOCALE = "zh"
        self.BABEL_DEFAULT_TIMEZONE = self.TIMEZONE
        self.LANGUAGES = ["zh", "en"]
        # Space-separated CSP frame-ancestors: the mall admin origins allowed to embed the panel.
        self.FRAME_ANCESTORS = env.get("WDTPANEL_FRAME_ANCESTORS", "'self'")
        # Inside a cross-site iframe the session cookie must be SameSite=None; Secure.
        cross_site = _bool("WDTPANEL_CROSS_SITE_COOKIES", production)
        self.SESSION_COOKIE_SAMESITE = "None" if cross_site else "Lax"
        self.SESSION_COOKIE_SECURE = cross_site or production
        self.SESSION_COOKIE_HTTPONLY = True
        self.WTF_CSRF_TIME_LIMIT = None  # a token lives as long as the session
        self.MAX_CONTENT_LENGTH = int(env.get("WDTPANEL_MAX_BODY_BYTES", str(1024 * 1024)))
        self.WDT_CONNECT_TIMEOUT = float(env.get("WDT_CONNECT_TIMEOUT", "5"))
        self.WDT_READ_TIMEOUT = float(env.get("WDT_READ_TIMEOUT", "30"))
        # Seconds between tries of a push that failed for a transient reason (network, 5xx, rate limit).
        self.PUSH_RETRY_INTERVALS = [
            int(x) for x in env.get("WDTPANEL_PUSH_RETRY_INTERVALS", "30,120,600,1800").split(",")
        ]
        # Calls to WDT per merchant: a token bucket shared by all workers, below WDT's unpublished per-minute quota.
        self.WDT_CALLS_PER_MINUTE = float(env.get("WDT_CALLS_PER_MINUTE", "50"))
        self.WDT_CALLS_BURST = int(env.get("WDT_CALLS_BURST", "10"))
        # Longest wait for a call slot (below the 50 s claim lease, which is renewed before and after the wait).
        self.WDT_PACING_MAX_WAIT = min(float(env.get("WDT_PACING_MAX_WAIT", "30")), 45.0)
        # An order whose push got no answer, where WDT could not be asked, is pushed again after this long.
        self.UNCONFIRMED_RECHECK_SECONDS = int(env.get("WDTPANEL_UNCONFIRMED_RECHECK_SECONDS", "600"))
        # Orders per WDT push call; unset = the edition's limit (50 enterprise, 100 ultimate).
        self.WDT_PUSH_BATCH_SIZE = int(env["WDT_PUSH_BATCH_SIZE"]) if env.get("WDT_PUSH_BATCH_SIZE") else None
        # Webhooks to the mall: (connect, read) timeouts and the delays between tries (the last one repeats).
        self.WEBHOOK_TIMEOUTS = (3.0, 10.0)
        self.WEBHOOK_RETRY_INTERVALS = [
            int(x) for x in env.get("WDTPANEL_WEBHOOK_RETRY_INTERVALS", "10,60,300,1800,3600").split(",")
        ]
        # How often rq cron pulls shipping records from WDT for each enabled merchant.
        self.PULL_INTERVAL_SECONDS = int(env.get("WDTPANEL_PULL_SECONDS", "60"))
        # How often rq cron pulls stock changes from WDT for each enabled merchant (立即同步 pulls at once).
        self.STOCK_PULL_INTERVAL_SECONDS = int(env.get("WDTPANEL_STOCK_PULL_SECONDS", "60"))
        # How often rq cron re-queues lost push jobs (orders, goods) and due webhooks.
        self.SWEEP_INTERVAL_SECONDS = int(env.get("WDTPANEL_SWEEP_SECONDS", "60"))
        # Outbound addresses (custom WDT URL, mall callback) may point at loopback/private hosts only in development.
        self.ALLOW_PRIVATE_URLS = _bool("WDTPANEL_ALLOW_PRIVATE_URLS", not production)
        # How old the reason counts of the 异常订单 page may be (seconds; 0: counted on every load).
        self.COUNTS_CACHE_SECONDS = int(env.get("WDTPANEL_COUNTS_CACHE_SECONDS", "10"))
        # How long a web process reuses an API key's merchant and secret (seconds; a rotated key works this long).
        self.API_KEY_CACHE_SECONDS = int(env.get("WDTPANEL_API_KEY_CACHE_SECONDS", "30"))
        # werkzeug's password hashing method (its default, scrypt, unless you have a reason).
        self.PASSWORD_HASH_METHOD = env.get("WDTPANEL_PASSWORD_HASH_METHOD", "scrypt")
        # Bearer token for /metrics (Prometheus); unset: /metrics answers 404.
        self.METRICS_TOKEN = env.get("WDTPANEL_METRICS_TOKEN", "")
        # Base URL the demo merchant and the simulator use in development.
        self.WDT_SIMULATOR_URL = env.get("WDT_SIMULATOR_URL", "http://127.0.0.1:8765")
