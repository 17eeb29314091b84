"""The mall's ingest API: signatures, validation, upsert rules (newest snapshot wins), goods."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.helpers import MallApi, order_payload
from wdtpanel.extensions import db
from wdtpanel.models import Goods, Order, OrderLine, WdtConfig


def enable_integration(merchant, since=datetime(2026, 1, 1, tzinfo=UTC)):
    db.session.add(
        WdtConfig(
            merchant_id=merchant.id,
            sid="s",
            appkey="k",
            shop_no="mall01",
            warehouse_no="wh01",
            enabled=True,
            enabled_at=since,
            known_logistics=[],
        )
    )
    db.session.commit()


def stored(merchant, order_no="M1001") -> Order:
    db.session.expire_all()
    return db.session.scalar(select(Order).where(Order.merchant_id == merchant.id, Order.order_no == order_no))


def test_new_order_is_stored_with_lines_and_decimals(mall_api):
    response = mall_api.post("/api/v1/orders", order_payload())
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["outcome"] == "created"
    order = stored(mall_api.merchant)
    assert order.paid_amount == Decimal("204.8000") and order.total_amount == Decimal("199.8000")
    assert [line.mall_line_id for line in order.lines] == ["L1", "L2"]
    assert order.lines[0].price == Decimal("66.6000") and order.lines[0].quantity == 2


def test_order_before_switch_on_is_historical_and_after_is_pending(mall_api):
    enable_integration(mall_api.merchant, since=datetime(2026, 11, 29, 2, 30, tzinfo=UTC))
    mall_api.post("/api/v1/orders", order_payload("OLD", created_at="2026-11-29T10:00:00+08:00"))
    mall_api.post("/api/v1/orders", order_payload("NEW", created_at="2026-11-29T10:45:00+08:00"))
    assert stored(mall_api.merchant, "OLD").sync_state == "historical"
    assert stored(mall_api.merchant, "NEW").sync_state == "pending"


def test_order_while_integration_off_is_historical(mall_api):
    mall_api.post("/api/v1/orders", order_payload())
    assert stored(mall_api.merchant).sync_state == "historical"


def test_same_snapshot_twice_changes_nothing(mall_api):
    mall_api.post("/api/v1/orders", order_payload())
    again = mall_api.post("/api/v1/orders", order_payload())
    assert again.status_code == 200 and again.get_json()["outcome"] == "unchanged"
    assert stored(mall_api.merchant).snapshot_version == 1


def test_older_snapshot_after_newer_changes_nothing(mall_api):
    mall_api.post("/api/v1/orders", order_payload(status="received", updated_at="2026-11-30T09:00:00+08:00"))
    older = mall_api.post("/api/v1/orders", order_payload(status="paid", updated_at="2026-11-29T10:01:00+08:00"))
    assert older.get_json()["outcome"] == "stale"
    order = stored(mall_api.merchant)
    assert order.mall_status == "received" and order.snapshot_version == 1


def test_newer_snapshot_updates_and_bumps_version(mall_api):
    mall_api.post("/api/v1/orders", order_payload())
    payload = order_payload(status="received", updated_at="2026-11-30T09:00:00+08:00")
    payload["lines"][1]["refund_status"] = "applied"
    response = mall_api.post("/api/v1/orders", payload)
    assert response.get_json()["outcome"] == "updated"
    order = stored(mall_api.merchant)
    assert order.mall_status == "received" and order.snapshot_version == 2
    assert order.lines[1].refund_status == "applied"


def test_pushed_line_cannot_change_quantity(mall_api):
    mall_api.post("/api/v1/orders", order_payload())
    order = stored(mall_api.merchant)
    order.pushed_version, order.sync_state = 1, "pushed"
    db.session.commit()
    payload = order_payload(updated_at="2026-11-30T09:00:00+08:00")
    payload["lines"][0]["quantity"] = 3
    payload["amounts"]["paid"] = "271.40"
    response = mall_api.post("/api/v1/orders", payload)
    assert response.status_code == 422
    assert "lines[0].quantity" in response.get_json()["fields"]
    assert stored(mall_api.merchant).lines[0].quantity == 2


@pytest.mark.parametrize(
    "mutate,field",
    [
        (lambda p: p.pop("order_no"), "order_no"),
        (lambda p: p.update(status="lost"), "status"),
        (lambda p: p.update(created_at="yesterday"), "created_at"),
        (lambda p: p.pop("paid_at"), "paid_at"),
        (lambda p: p["amounts"].update(paid=12.5), "amounts.paid"),
        (lambda p: p["amounts"].update(post="-1"), "amounts.post"),
        (lambda p: p["receiver"].pop("name"), "receiver.name"),
        (lambda p: p["receiver"].update(mobile="", phone=""), "receiver.mobile"),
        (lambda p: p.update(lines=[]), "lines"),
        (lambda p: p["lines"][0].update(quantity=0), "lines[0].quantity"),
        (lambda p: p["lines"][1].update(price="abc"), "lines[1].price"),
        (lambda p: p["lines"][1].update(line_id="L1"), "lines[1].line_id"),
        (lambda p: p["lines"][0].update(refund_status="maybe"), "lines[0].refund_status"),
        (lambda p: p.update(order_no="x" * 41), "order_no"),
    ],
)
def test_bad_fields_are_named_and_nothing_is_written(mall_api, mutate, field):
    payload = order_payload()
    mutate(payload)
    response = mall_api.post("/api/v1/orders", payload)
    assert response.status_code == 422
    assert field in response.get_json()["fields"], response.get_json()
    assert db.session.scalar(select(func.count(Order.id))) == 0
    assert db.session.scalar(select(func.count(OrderLine.id))) == 0


def test_every_bad_field_is_reported_at_once(mall_api):
    payload = order_payload()
    payload.pop("order_no")
    payload["lines"][0]["quantity"] = -1
    fields = mall_api.post("/api/v1/orders", payload).get_json()["fields"]
    assert {"order_no", "lines[0].quantity"} <= set(fields)


def test_not_json_is_400(mall_api):
    response = mall_api.post("/api/v1/orders", b"{not json")
    assert response.status_code == 400 and response.get_json()["error"] == "bad_json"


def test_oversized_body_is_413(mall_api, app):
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = mall_api.post("/api/v1/orders", json.dumps(order_payload(seller_memo="x" * 4000)).encode())
    assert response.status_code == 413


def test_bad_signature_old_timestamp_and_unknown_key_are_401(mall_api):
    body = json.dumps(order_payload()).encode()
    assert mall_api.post("/api/v1/orders", body, secret="wrong").status_code == 401
    assert mall_api.post("/api/v1/orders", body, timestamp=int(time.time()) - 3600).status_code == 401
    headers = mall_api.headers(body)
    headers["X-Api-Key"] = "nope"
    assert mall_api.client.post("/api/v1/orders", data=body, headers=headers).status_code == 401
    assert mall_api.client.post("/api/v1/orders", data=body).get_json()["error"] == "unauthorized"
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_merchant_b_cannot_read_or_touch_merchant_a_orders(app, mall_api, make_merchant):
    mall_api.post("/api/v1/orders", order_payload())
    merchant_b, _ = make_merchant("shop-b")
    api_b = MallApi(app.test_client(), merchant_b)
    assert api_b.get("/api/v1/orders/M1001").status_code == 404
    api_b.post("/api/v1/orders", order_payload(status="closed", updated_at="2026-12-01T00:00:00+08:00"))
    assert stored(mall_api.merchant).mall_status == "paid"
    assert mall_api.get("/api/v1/orders/M1001").get_json()["sync_state"] == "historical"


def test_goods_upsert_with_specs_and_staleness(mall_api):
    goods = {
        "goods": [
            {
                "goods_id": "G1",
                "name": "保温杯",
                "updated_at": "2026-11-29T10:00:00+08:00",
                "specs": [
                    {"spec_id": "S1", "name": "红色", "merchant_code": "DEMO-0001", "price": "66.60"},
                    {"spec_id": "S2", "name": "蓝色"},
                ],
            }
        ]
    }
    assert mall_api.post("/api/v1/goods", goods).get_json() == {"goods": {"G1": "created"}}
    assert mall_api.post("/api/v1/goods", goods).get_json() == {"goods": {"G1": "stale"}}
    goods["goods"][0]["updated_at"] = "2026-11-30T10:00:00+08:00"
    goods["goods"][0]["specs"] = goods["goods"][0]["specs"][:1]
    assert mall_api.post("/api/v1/goods", goods).get_json() == {"goods": {"G1": "updated"}}
    stored_goods = db.session.scalar(select(Goods))
    assert [(s.mall_spec_id, s.merchant_code) for s in stored_goods.specs] == [("S1", "DEMO-0001")]
    bad = mall_api.post("/api/v1/goods", {"goods": [{"goods_id": "", "updated_at": "x"}]})
    assert bad.status_code == 422 and {"goods[0].goods_id", "goods[0].name", "goods[0].updated_at"} <= set(
        bad.get_json()["fields"]
    )


def test_openapi_description_is_served(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert "/api/v1/orders" in spec["paths"]


def test_non_ascii_digits_in_the_timestamp_are_401_not_500(mall_api):
    body = json.dumps(order_payload()).encode()
    headers = mall_api.headers(body)
    headers["X-Timestamp"] = "²"
    assert mall_api.client.post("/api/v1/orders", data=body, headers=headers).status_code == 401


def test_repeated_spec_id_in_goods_is_422(mall_api):
    goods = {
        "goods": [
            {
                "goods_id": "G1",
                "name": "杯",
                "updated_at": "2026-11-29T10:00:00+08:00",
                "specs": [{"spec_id": "S1"}, {"spec_id": "S1"}],
            }
        ]
    }
    response = mall_api.post("/api/v1/goods", goods)
    assert response.status_code == 422 and "goods[0].specs[1].spec_id" in response.get_json()["fields"]


def test_update_racing_a_push_that_just_finished_is_pushed_again(mall_api, monkeypatch):
    """The worker records `pushed` of version 1 just before the update's transaction writes: the update still
    sends the order back to pending, because that is decided in SQL after the claim, not from an earlier read."""
    from sqlalchemy import update

    from wdtpanel.ingest import orders

    enable_integration(mall_api.merchant)
    mall_api.post("/api/v1/orders", order_payload())
    real_upsert = orders.upsert_order

    def worker_finishes_meanwhile(*args, **kwargs):
        with db.engine.begin() as other:  # the worker's own connection records the push of version 1
            other.execute(update(Order).where(Order.order_no == "M1001").values(sync_state="pushed", pushed_version=1))
        return real_upsert(*args, **kwargs)

    monkeypatch.setattr(orders, "upsert_order", worker_finishes_meanwhile)
    response = mall_api.post("/api/v1/orders", order_payload(status="received", updated_at="2026-11-30T09:00:00+08:00"))
    assert response.get_json()["outcome"] == "updated"
    order = stored(mall_api.merchant)
    assert (order.sync_state, order.snapshot_version, order.pushed_version) == ("pending", 2, 1)
