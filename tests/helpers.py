"""Helpers the tests share: signing in, calling the API as the mall, valid payloads, running the worker."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

from wdtpanel.cli import DEMO_GOODS
from wdtpanel.extensions import db
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
