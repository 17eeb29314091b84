"""Shipping comes back: WDT (the simulator) ships, the pull records it, acks it, and the mall is told."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers import connect_to_simulator, csrf_token_from, order_payload, run_worker, sign_in
from wdtpanel.extensions import db
from wdtpanel.jobs import pull, sweep_webhooks
from wdtpanel.merchant_config import client_for, load_config
from wdtpanel.models import Merchant, Order, PullIssue, Shipment, SyncStatus, User, WdtConfig, WebhookDelivery
from wdtpanel.push.trade_mapping import to_raw_trade
from wdtpanel.security import hmac_signature

NOW = datetime.now(UTC)


@pytest.fixture
def shop(mall_api, wdt_simulator, mall_receiver):
    """Merchant connected to the simulator (ZTO and SF mapped), with a pushed two-line order M1001."""
    connect_to_simulator(mall_api.merchant, wdt_simulator)
    config = db.session.scalar(select(WdtConfig).where(WdtConfig.merchant_id == mall_api.merchant.id))
    config.enabled_at = NOW - timedelta(minutes=5)
    merchant = db.session.get(Merchant, mall_api.merchant.id)
    merchant.webhook_url = mall_receiver.url
    db.session.commit()
    stamp = NOW.isoformat()
    assert (
        mall_api.post("/api/v1/orders", order_payload(created_at=stamp, paid_at=stamp, updated_at=stamp)).status_code
        == 201
    )
    run_worker()
    return mall_api


def pull_now(shop):
    result = pull("shipping", shop.merchant.id)
    run_worker()  # webhook deliveries
    return result


def sync_record(simulator, tid):
    return [r for r in simulator.state()["sync"] if r["tid"] == tid]


def test_whole_shipment_is_recorded_told_to_the_mall_and_acked(shop, wdt_simulator, mall_receiver):
    wdt_simulator.ship("M1001", "ZTO", "ZT900001")
    result = pull_now(shop)
    assert result["applied"] == 1
    shipment = db.session.scalar(select(Shipment))
    assert (shipment.logistics_no, shipment.carrier_code, shipment.line_ids) == ("ZT900001", "zhongtong", [])
    order = db.session.scalar(select(Order).where(Order.order_no == "M1001"))
    assert order.shipping_state == "shipped"
    assert len(mall_receiver.received) == 1
    headers, body = mall_receiver.received[0]
    secret = shop.secret
    assert headers["X-Wdtpanel-Signature"] == hmac_signature(secret, headers["X-Wdtpanel-Timestamp"], body)
    event = json.loads(body)
    assert event["event"] == "shipment.created" and event["data"]["tracking_no"] == "ZT900001"
    assert event["data"]["carrier_code"] == "zhongtong"
    records = sync_record(wdt_simulator, "M1001")
    assert [r["status"] for r in records] == ["synced"]
    api_view = shop.get("/api/v1/orders/M1001").get_json()
    assert api_view["shipping_state"] == "shipped" and api_view["shipments"][0]["tracking_no"] == "ZT900001"


def test_partial_shipments_mark_their_lines(shop, wdt_simulator):
    wdt_simulator.ship("M1001", "SF", "SF100", oids=["M1001-L1"])
    pull_now(shop)
    order = db.session.scalar(select(Order).where(Order.order_no == "M1001"))
    assert order.shipping_state == "partial"
    wdt_simulator.ship("M1001", "SF", "SF200", oids=["M1001-L2"])
    pull_now(shop)
    db.session.expire_all()
    assert db.session.scalar(select(Order.shipping_state).where(Order.order_no == "M1001")) == "shipped"
    assert sorted(s.line_ids[0] for s in db.session.scalars(select(Shipment))) == ["L1", "L2"]


def test_unmapped_carrier_is_acked_as_failed_and_shown(shop, wdt_simulator, mall_receiver, signed_in):
    wdt_simulator.ship("M1001", "JT", "JT777")
    result = pull_now(shop)
    assert result["failed"] == 1 and db.session.scalar(select(func.count(Shipment.id))) == 0
    record = sync_record(wdt_simulator, "M1001")[0]
    assert record["status"] == "failed" and "没有对应的商城物流编码" in record["message"]
    assert mall_receiver.received == []
    staff = signed_in(shop.merchant.code + "-staff")
    page = staff.get("/sync/")  # another merchant's page shows nothing of it
    assert "JT777" not in page.get_data(as_text=True)


def test_lost_ack_does_not_duplicate_the_shipment(shop, wdt_simulator, mall_receiver):
    wdt_simulator.ship("M1001", "ZTO", "ZT1")
    pull_now(shop)
    rec_id = sync_record(wdt_simulator, "M1001")[0]["rec_id"]
    wdt_simulator.reoffer(rec_id)  # WDT never got our ack and sends the record again
    pull_now(shop)
    assert db.session.scalar(select(func.count(Shipment.id))) == 1
    assert len(mall_receiver.received) == 1
    assert sync_record(wdt_simulator, "M1001")[0]["status"] == "synced"


def test_mall_down_delays_the_webhook_but_loses_nothing(shop, wdt_simulator, mall_receiver):
    mall_receiver.status = 503
    wdt_simulator.ship("M1001", "ZTO", "ZT2")
    pull_now(shop)
    delivery = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.event == "shipment.created"))
    assert delivery.state == "pending" and delivery.attempts >= 1 and "503" in delivery.last_error
    mall_receiver.status = 200
    delivery.next_attempt_at = NOW - timedelta(hours=1)
    delivery.created_at = NOW - timedelta(hours=1)
    db.session.commit()
    assert sweep_webhooks() == 1
    run_worker()
    db.session.expire_all()
    assert db.session.get(WebhookDelivery, delivery.id).state == "delivered"
    ids = {json.loads(body)["id"] for _, body in mall_receiver.received}
    assert ids == {delivery.id}


def test_unknown_order_is_acked_as_failed(shop, wdt_simulator):
    ghost = db.session.scalar(select(Order).where(Order.order_no == "M1001"))
    trade = to_raw_trade(ghost)
    client_for(load_config(shop.merchant.id)).push_trades("mall01", [type(trade)(**{**trade.__dict__, "tid": "GHOST"})])
    wdt_simulator.ship("GHOST", "ZTO", "ZT3")
    pull_now(shop)
    record = sync_record(wdt_simulator, "GHOST")[0]
    assert record["status"] == "failed" and "商城中没有订单 GHOST" in record["message"]


def test_sync_status_page_and_pull_now(shop, wdt_simulator, app):

    wdt_simulator.ship("M1001", "JT", "JT9")
    pull_now(shop)
    client = app.test_client()
    user = db.session.scalar(select(User).where(User.merchant_id == shop.merchant.id))
    sign_in(client, user)
    html = client.get("/sync/").get_data(as_text=True)
    assert "可以连接" in html and "今日拉取物流记录" in html
    assert "M1001" in html and "没有对应的商城物流编码" in html
    token = csrf_token_from(html)
    answer = client.post("/sync/pull", headers={"X-CSRFToken": token, "HX-Request": "true"}).get_data(as_text=True)
    assert "已开始同步" in answer and answer.lstrip().startswith('<div id="sync-overview"')


def test_wdt_down_shows_in_the_status(shop, wdt_simulator):
    wdt_simulator.fail_next("5xx", 5)
    result = pull_now(shop)
    assert result["error"] == "http_5xx"
    status = db.session.get(SyncStatus, (shop.merchant.id, "shipping"))
    assert status.wdt_reachable is False and status.last_error_reason == "http_5xx"


def test_an_order_that_becomes_abnormal_is_told_to_the_mall(shop, wdt_simulator, mall_receiver):
    stamp = NOW.isoformat()
    payload = order_payload("M2002", created_at=stamp, paid_at=stamp, updated_at=stamp)
    payload["lines"][0]["merchant_code"] = ""
    shop.post("/api/v1/orders", payload)
    run_worker()  # push (abnormal) then the webhook
    events = [json.loads(body) for _, body in mall_receiver.received]
    assert [(e["event"], e["data"]["order_no"], e["data"]["reason"]) for e in events] == [
        ("order.abnormal", "M2002", "missing_merchant_code")
    ]


def map_carrier(merchant_id: int, wdt_code: str, name: str, mall_code: str) -> None:
    from wdtpanel.models import LogisticsMapping

    config = db.session.scalar(select(WdtConfig).where(WdtConfig.merchant_id == merchant_id))
    config.logistics.append(
        LogisticsMapping(merchant_id=merchant_id, wdt_code=wdt_code, wdt_name=name, mall_code=mall_code)
    )
    db.session.commit()


def open_issue_rows(merchant_id: int) -> list[PullIssue]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(PullIssue).where(PullIssue.merchant_id == merchant_id, PullIssue.resolved_at.is_(None))
        )
    )


def test_record_refused_for_an_unmapped_carrier_is_applied_once_the_carrier_is_mapped(
    shop, wdt_simulator, mall_receiver
):
    wdt_simulator.ship("M1001", "JT", "JT100")
    pull_now(shop)
    pull_now(shop)  # still unmapped: the same issue, tried again
    [issue] = open_issue_rows(shop.merchant.id)
    assert issue.reason == "unmapped_carrier" and issue.attempts == 2 and issue.record["logistics_no"] == "JT100"
    assert mall_receiver.received == []
    map_carrier(shop.merchant.id, "JT", "极兔速递", "jitu")
    pull_now(shop)  # WDT offers nothing new; the kept record goes through
    assert open_issue_rows(shop.merchant.id) == []
    [shipment] = db.session.scalars(select(Shipment)).all()
    assert (shipment.logistics_no, shipment.carrier_code) == ("JT100", "jitu")
    pull_now(shop)
    events = [json.loads(body) for _, body in mall_receiver.received]
    assert [(e["event"], e["data"]["tracking_no"]) for e in events] == [("shipment.created", "JT100")]


def test_record_for_an_order_that_arrives_later_is_applied_by_retry(shop, wdt_simulator, mall_receiver):
    from wdtpanel.jobs import retry_pull_issue

    def retry(merchant_id, issue_id):
        return retry_pull_issue("shipping", merchant_id, issue_id)

    ghost = db.session.scalar(select(Order).where(Order.order_no == "M1001"))
    trade = to_raw_trade(ghost)
    client_for(load_config(shop.merchant.id)).push_trades("mall01", [type(trade)(**{**trade.__dict__, "tid": "LATE1"})])
    wdt_simulator.ship("LATE1", "ZTO", "ZT777")
    pull_now(shop)
    [issue] = open_issue_rows(shop.merchant.id)
    assert issue.reason == "unknown_order" and issue.subject == "LATE1"
    assert retry(shop.merchant.id, issue.id).applied == 0  # still unknown: nothing changes
    stamp = NOW.isoformat()
    shop.post("/api/v1/orders", order_payload("LATE1", created_at=stamp, paid_at=stamp, updated_at=stamp))
    summary = retry(shop.merchant.id, issue.id)  # 重新同步 on the status page
    assert summary.applied == 1 and open_issue_rows(shop.merchant.id) == []
    run_worker()
    assert [json.loads(body)["data"]["order_no"] for _, body in mall_receiver.received] == ["LATE1"]
    assert retry(shop.merchant.id, issue.id) is None  # resolved: nothing left to retry


def test_a_later_success_of_the_same_record_clears_its_failure(shop, wdt_simulator, mall_receiver):
    wdt_simulator.ship("M1001", "JT", "JT200")
    pull_now(shop)
    rec_id = sync_record(wdt_simulator, "M1001")[0]["rec_id"]
    map_carrier(shop.merchant.id, "JT", "极兔速递", "jitu")
    wdt_simulator.reoffer(rec_id)  # staff press 重新同步 in WDT
    pull_now(shop)
    assert open_issue_rows(shop.merchant.id) == []
    assert sync_record(wdt_simulator, "M1001")[0]["status"] == "synced"
    assert len(mall_receiver.received) == 1


def test_a_record_id_wdt_sends_again_under_another_order_is_not_recorded_twice(shop):
    from wdtpanel.pulls.runner import PullSummary
    from wdtpanel.pulls.shipping import SHIPPING
    from wdtpanel.wdt import LogisticsRecord

    stamp = NOW.isoformat()
    shop.post("/api/v1/orders", order_payload("M1002", created_at=stamp, paid_at=stamp, updated_at=stamp))
    config = db.session.scalar(select(WdtConfig).where(WdtConfig.merchant_id == shop.merchant.id))

    def record(tid):
        return LogisticsRecord(
            rec_id="777",
            tid=tid,
            logistics_no="ZT777",
            logistics_code="ZTO",
            logistics_name="中通快递",
            logistics_type="5",
            consign_time=NOW,
            oids=[],
            is_part_sync=False,
            raw={},
        )

    first, second = PullSummary(), PullSummary()
    assert SHIPPING.apply(config, [record("M1001")], first)[0].ok
    assert SHIPPING.apply(config, [record("M1002")], second)[0].ok  # nonsense: the round still goes through
    db.session.commit()
    assert db.session.scalar(select(func.count(Shipment.id))) == 1
    assert len(first.deliveries) == 1 and second.deliveries == []


def test_a_record_holding_a_value_the_database_refuses_is_kept_and_the_round_goes_on(shop, wdt_simulator, signed_in):
    """A tracking no. longer than any column (WDT talking nonsense) must not fail the round every run: that record
    alone is kept as an issue and acked as failed, and the other records of the round are recorded."""
    stamp = NOW.isoformat()
    assert shop.post("/api/v1/orders", order_payload("M1002", created_at=stamp, paid_at=stamp, updated_at=stamp))
    run_worker()
    wdt_simulator.ship("M1001", "ZTO", "Z" * 80)
    wdt_simulator.ship("M1002", "ZTO", "ZT1002")
    result = pull_now(shop)
    assert result["error"] is None
    shipped = dict(db.session.execute(select(Order.order_no, Order.shipping_state)).all())
    assert shipped["M1002"] == "shipped"
    assert sync_record(wdt_simulator, "M1002")[0]["status"] == "synced"
    if db.engine.dialect.name != "postgresql":  # SQLite has no lengths: it stores the number whole
        assert "Z" * 80 in db.session.scalars(select(Shipment.logistics_no)).all()
        return
    assert shipped["M1001"] == "none"
    issue = db.session.scalar(select(PullIssue))
    assert (issue.reason, issue.subject) == ("unstorable_record", "M1001")
    assert "value too long" in issue.params["detail"]
    record = sync_record(wdt_simulator, "M1001")[0]
    assert record["status"] == "failed" and "无法保存" in record["message"]
    assert pull_now(shop)["error"] is None  # the next run retries it, and fails it alone again
    db.session.expire_all()
    assert db.session.scalar(select(PullIssue.attempts)) == 2


def test_a_key_or_subject_too_long_for_an_issue_is_shortened_and_stays_distinct():
    from wdtpanel.pulls.runner import _issue_text

    first, second = "R" * 100 + "1", "R" * 100 + "2"
    assert len(_issue_text(first)) == 64 and _issue_text(first) != _issue_text(second)
    assert (_issue_text("R\x001"), _issue_text("M1001")) == ("R1", "M1001")


def test_several_refused_records_among_many_are_each_found(shop, wdt_simulator):
    stamp = NOW.isoformat()
    numbers = [f"M100{n}" for n in range(2, 8)]
    for number in numbers:
        shop.post("/api/v1/orders", order_payload(number, created_at=stamp, paid_at=stamp, updated_at=stamp))
    run_worker()
    bad = {"M1003", "M1006"}
    for number in ["M1001", *numbers]:
        wdt_simulator.ship(number, "ZTO", "Z" * 80 if number in bad else f"ZT{number}")
    assert pull_now(shop)["error"] is None
    shipped = dict(db.session.execute(select(Order.order_no, Order.shipping_state)).all())
    if db.engine.dialect.name != "postgresql":  # SQLite has no lengths
        assert set(shipped.values()) == {"shipped"}
        return
    assert {number for number, state in shipped.items() if state != "shipped"} == bad
    assert set(db.session.scalars(select(PullIssue.subject))) == bad
