"""Helpers the tests share: signing in, calling the API as the mall, valid payloads, running the worker."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from wdtpanel.cli import DEMO_GOODS
from wdtpanel.extensions import db
from wdtpanel.merchant_config import ConfigInput, save_config
from wdtpanel.models import Goods, Order, OrderLine, Spec
from wdtpanel.security import decrypt_secret, hmac_signature


def sign_in(client, user) -> None:
    with client.session_transaction() as sess:
        sess["user_id"] = user.id
        sess["merchant_id"] = user.merchant_id
        sess["sv"] = user.session_version


def csrf_token_from(html: str) -> str:
    match = re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert match, "page carries no CSRF token"
    return match.group(1)


class MallApi:
    """Calls the ingest API as the mall does: signed with the merchant's API key and secret. Like a mall, it signs
    a body it sends again with a timestamp it has not used for that body (a signed write is accepted once)."""

    def __init__(self, client, merchant):
        self.client, self.merchant = client, merchant
        self.secret = decrypt_secret(merchant.api_secret_encrypted)
        self.sent: set[tuple[int, bytes]] = set()

    def headers(self, body: bytes, timestamp: int | None = None, secret: str | None = None) -> dict:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        return {
            "X-Api-Key": self.merchant.api_key,
            "X-Timestamp": stamp,
            "Content-Type": "application/json",
            "X-Signature": hmac_signature(secret or self.secret, stamp, body),
        }

    def post(self, path: str, payload, **sign):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if "timestamp" not in sign:
            stamp = int(time.time())
            while (stamp, body) in self.sent:
                stamp += 1
            self.sent.add((stamp, body))
            sign["timestamp"] = stamp
        return self.client.post(path, data=body, headers=self.headers(body, **sign))

    def get(self, path: str):
        return self.client.get(path, headers=self.headers(b""))


def order_payload(order_no: str = "M1001", **overrides) -> dict:
    """A valid order snapshot as the mall sends it."""
    payload = {
        "order_no": order_no,
        "status": "paid",
        "created_at": "2026-11-29T10:00:00+08:00",
        "paid_at": "2026-11-29T10:01:00+08:00",
        "updated_at": "2026-11-29T10:01:00+08:00",
        "buyer": {"nick": "买家小王", "message": "请尽快发货"},
        "receiver": {
            "name": "王小明",
            "mobile": "13800138000",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "address": "文三路 100 号",
            "zip": "310000",
        },
        "amounts": {"post": "10.00", "discount": "5.00", "paid": "204.80"},
        "lines": [
            {
                "line_id": "L1",
                "goods_id": "G1",
                "spec_id": "S1",
                "goods_name": "保温杯",
                "spec_name": "红色",
                "merchant_code": "DEMO-0001",
                "quantity": 2,
                "price": "66.60",
                "discount": "0",
            },
            {
                "line_id": "L2",
                "goods_id": "G2",
                "spec_id": "",
                "goods_name": "茶叶",
                "spec_name": "",
                "merchant_code": "DEMO-0002",
                "quantity": 1,
                "price": "66.60",
                "discount": "0",
            },
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
    from wdtpanel.merchant_config import ConfigInput, LogisticsChoice, save_config

    account = simulator.account
    secret = account.appsecret
    values = dict(
        edition=edition,
        environment="custom",
        custom_base_url=simulator.root_url,
        sid=account.sid,
        appkey=account.appkey,
        appsecret=secret,
        shop_no=account.shop_no,
        warehouse_no=account.warehouse_no,
        enabled=enabled,
        logistics=[LogisticsChoice("ZTO", "中通快递", "zhongtong"), LogisticsChoice("SF", "顺丰速运", "shunfeng")],
    )
    values.update(overrides)
    config = save_config(merchant.id, None, ConfigInput(**values))
    db.session.commit()
    return config


# The mall's goods as the goods and stock tests post them: the demo's goods (a multi-spec goods, a single-spec one, a
# code WDT does not know, a goods sharing the first spec's code), with G3 cut to one spec without a code and G5's
# shared code in another letter case.
CATALOGUE = [
    *DEMO_GOODS[:2],
    {"goods_id": "G3", "name": "帆布袋", "specs": [{"spec_id": "S31", "name": "大号", "price": "39.00"}]},
    DEMO_GOODS[3],
    {**DEMO_GOODS[4], "merchant_code": "demo-0001"},
]


def goods_batch(*goods, minutes: int = 0) -> dict:
    """A POST /api/v1/goods body, the snapshots taken `minutes` from now."""
    stamp = (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()
    return {"goods": [{**item, "updated_at": stamp} for item in goods]}


BASE = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: orders written by stored_order start here


def stored_order(
    merchant,
    number: int,
    state: str = "abnormal",
    reason: str | None = "unknown_merchant_code",
    params: dict | None = None,
    *,
    code: str | None = "SKU-1",
    order_no: str | None = None,
    buyer: str = "买家",
    goods: tuple[str, str] = ("保温杯", "红色"),
    amount: str = "10.5",
    ordered_at: datetime | None = None,
    **extra,
) -> Order:
    """An order with one line written straight to the database and committed, for tests of what reads orders.
    A reason (and its parameters) stays only on the states that carry one."""
    order_no = order_no or f"N{number:05d}"
    with_reason = state in ("abnormal", "pending", "unconfirmed") and reason is not None
    order = Order(
        merchant_id=merchant.id,
        order_no=order_no,
        mall_status="paid",
        ordered_at=ordered_at or BASE + timedelta(hours=number),
        paid_at=BASE,
        mall_updated_at=BASE,
        buyer_nick=f"{buyer}{number}",
        paid_amount=Decimal(amount),
        sync_state=state,
        sync_reason=reason if with_reason else None,
        sync_params=(params if params is not None else {"detail": "编码不存在"}) if with_reason else {},
        push_attempts=1,
        last_attempt_at=BASE,
        **extra,
    )
    order.lines.append(
        OrderLine(
            merchant_id=merchant.id,
            mall_line_id="L1",
            wdt_oid=f"{order_no}-L1",
            mall_goods_id="G1",
            mall_spec_id="S1",
            goods_name=goods[0],
            spec_name=goods[1],
            merchant_code=code,
            quantity=1,
            price=Decimal(amount),
        )
    )
    db.session.add(order)
    db.session.commit()
    return order


def listed(html: str) -> list[str]:
    """The order numbers a list page shows, in order (orders made by stored_order)."""
    return re.findall(r'class="order-no">(N\d{5})</a>', html)


# --- goods and the config page ---


def add_goods(
    merchant, goods_id: str, name: str, *specs: tuple[str, str | None], code: str | None = None, **spec_state
) -> Goods:
    """A goods of the mall, committed, with specs (spec id, code); no specs: a single-spec goods carrying `code`."""
    goods = Goods(merchant_id=merchant.id, mall_goods_id=goods_id, name=name, merchant_code=code, mall_updated_at=BASE)
    for spec_id, spec_code in specs or [("", code)]:
        goods.specs.append(
            Spec(
                merchant_id=merchant.id,
                mall_spec_id=spec_id,
                name=f"规格{spec_id}" if spec_id else "",
                merchant_code=spec_code,
                price=Decimal("9.9"),
                **spec_state,
            )
        )
    db.session.add(goods)
    db.session.commit()
    return goods


def offline_config(**overrides) -> ConfigInput:
    """A complete config form whose WDT address nothing answers on (switched off unless `enabled` says so)."""
    values = dict(
        edition="enterprise",
        environment="custom",
        custom_base_url="http://127.0.0.1:9/",
        sid="s",
        appkey="k",
        appsecret="secret",
        shop_no="mall01",
        warehouse_no="wh01",
        enabled=False,
    )
    return ConfigInput(**{**values, **overrides})


def switch_on(merchant, on: bool = True) -> None:
    """The integration switched on (or off), its WDT address one nothing answers on."""
    save_config(merchant.id, None, offline_config(enabled=on))
    db.session.commit()


# A valid 旺店通配置 form, as a browser posts it.
VALID = {
    "edition": "enterprise",
    "environment": "production",
    "custom_base_url": "",
    "sid": "mysid",
    "appkey": "myappkey",
    "appsecret": "s3cret-value-ab12",
    "shop_no": "shop01",
    "warehouse_no": "wh01",
    "enabled": "y",
}


def field_errors(html: str, field: str) -> str:
    """The error text shown under one field."""
    match = re.search(rf'<div class="msg" id="{field}-msg">(.*?)</div>', html, re.S)
    assert match, f"field {field} not rendered"
    return " ".join(re.findall(r'<p class="error">(.*?)</p>', match.group(1)))


def post_config(client, data, htmx=True):
    headers = {"X-CSRFToken": client.csrf}
    if htmx:
        headers["HX-Request"] = "true"
    return client.post("/settings/wdt", data=data, headers=headers)


def fresh_database_beside(url: str, name: str) -> str:
    """The URL of an empty PostgreSQL database `name` on the server of `url` (dropped first if it exists)."""
    from sqlalchemy import create_engine, make_url

    base = make_url(url)
    engine = create_engine(base.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def session_holds_a_write() -> bool:
    """Whether the app's session in this thread has written in its open transaction, and so holds SQLite's write
    lock or PostgreSQL's locks on what it wrote: a worker must hold none while WDT is called. (Writes on connections
    of their own, committed at once, are not the session's: the lease renewal, the ingest's self-committing insert.)
    Sends nothing that would begin a transaction."""
    from psycopg.pq import TransactionStatus

    session = db.session()
    if not session.in_transaction():
        return False
    connection = session.connection()
    driver = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite":
        return driver.in_transaction  # begun by the first write, not by a read
    status = driver.info.transaction_status
    if status == TransactionStatus.IDLE:
        return False
    if status == TransactionStatus.INERROR:  # failed, not yet rolled back: its locks are still held
        return True
    return connection.exec_driver_sql("SELECT pg_current_xact_id_if_assigned()").scalar() is not None
