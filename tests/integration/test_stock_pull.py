"""库存同步 against the simulator over HTTP, both editions: a stock change in WDT reaches the mall as one signed
stock.changed event, is acked with the stock delivered, and is kept when the panel cannot apply it yet."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.helpers import CATALOGUE, connect_to_simulator, goods_batch, run_worker
from wdtpanel.extensions import db
from wdtpanel.jobs import pull, sweep_webhooks
from wdtpanel.merchant_config import client_for, load_config
from wdtpanel.models import Merchant, PullIssue, SpecStock, SyncStatus, WdtConfig, WebhookDelivery
from wdtpanel.security import hmac_signature
from wdtpanel.wdt import PlatformGoodsLine

NOW = datetime.now(UTC)


@pytest.fixture(params=["enterprise", "ultimate"])
def edition(request):
    return request.param


@pytest.fixture
def shop(mall_api, wdt_simulator, mall_receiver, edition):
    """Connected, the mall's receiver set, the catalogue pushed; WDT's first stock of each matched SKU (queued when
    WDT matched it) pulled and delivered, so each test starts from a quiet queue."""
    connect_to_simulator(mall_api.merchant, wdt_simulator, edition=edition)
    config = db.session.scalar(select(WdtConfig).where(WdtConfig.merchant_id == mall_api.merchant.id))
    config.enabled_at = NOW - timedelta(minutes=5)
    db.session.get(Merchant, mall_api.merchant.id).webhook_url = mall_receiver.url
    db.session.commit()
    assert mall_api.post("/api/v1/goods", goods_batch(*CATALOGUE[:2])).status_code == 200
    run_worker()
    pull_stock(mall_api)
    mall_receiver.received.clear()
    return mall_api


def pull_stock(shop) -> dict:
    result = pull("stock", shop.merchant.id)
    run_worker()  # the webhook deliveries
    return result


def events(receiver) -> list[dict]:
    return [json.loads(body) for _, body in receiver.received]


def waiting(simulator) -> dict[str, bool]:
    return {row["spec_no"]: row["waiting"] for row in simulator.state()["platform_goods"]}


def test_first_stock_of_each_matched_sku_arrives_after_the_goods_push(mall_api, wdt_simulator, mall_receiver, edition):
    connect_to_simulator(mall_api.merchant, wdt_simulator, edition=edition)
    db.session.get(Merchant, mall_api.merchant.id).webhook_url = mall_receiver.url
    db.session.commit()
    mall_api.post("/api/v1/goods", goods_batch(*CATALOGUE[:2]))
    run_worker()
    result = pull_stock(mall_api)
    assert (result["records"], result["applied"], result["failed"]) == (3, 3, 0)
    [event] = events(mall_receiver)
    assert sorted((c["goods_id"], c["spec_id"], c["quantity"]) for c in event["data"]["changes"]) == [
        ("G1", "S1", "100"),
        ("G1", "S2", "100"),
        ("G2", "", "100"),
    ]
    assert not any(waiting(wdt_simulator).values())


def test_a_stock_change_reaches_the_mall_as_one_verified_event_and_is_acked(shop, wdt_simulator, mall_receiver):
    wdt_simulator.set_stock("DEMO-0001", quantity=42)  # 盘点
    wdt_simulator.set_stock("DEMO-0003", delta=-3)  # 出库
    assert waiting(wdt_simulator) == {"DEMO-0001": True, "DEMO-0002": False, "DEMO-0003": True}
    result = pull_stock(shop)
    assert (result["records"], result["applied"], result["failed"]) == (2, 2, 0)
    [(headers, body)] = mall_receiver.received
    assert headers["X-Wdtpanel-Event"] == "stock.changed"
    assert headers["X-Wdtpanel-Signature"] == hmac_signature(shop.secret, headers["X-Wdtpanel-Timestamp"], body)
    event = json.loads(body)
    assert event["event"] == "stock.changed" and event["merchant"] == shop.merchant.code
    changes = sorted(event["data"]["changes"], key=lambda change: change["merchant_code"])
    assert [(c["goods_id"], c["spec_id"], c["merchant_code"], c["quantity"], c["version"]) for c in changes] == [
        ("G1", "S1", "DEMO-0001", "42", 2),
        ("G2", "", "DEMO-0003", "97", 2),
    ]
    rows = {row["spec_no"]: row for row in wdt_simulator.state()["platform_goods"]}
    assert not rows["DEMO-0001"]["waiting"] and rows["DEMO-0001"]["last_syn_num"] == 42  # acked with what was sent
    assert rows["DEMO-0003"]["last_syn_num"] == 97
    answer = shop.get("/api/v1/stock?merchant_code=DEMO-0001")
    assert answer.status_code == 200
    assert [
        (level["goods_id"], level["spec_id"], level["quantity"], level["version"])
        for level in answer.get_json()["stock"]
    ] == [("G1", "S1", "42", 2)]
    status = db.session.get(SyncStatus, (shop.merchant.id, "stock"))
    assert status.wdt_reachable and status.records_today == 5  # three first stocks, then these two


def test_mall_down_then_up_gets_the_event_once(shop, wdt_simulator, mall_receiver):
    mall_receiver.status = 503
    wdt_simulator.set_stock("DEMO-0002", quantity=7)
    pull_stock(shop)
    assert not waiting(wdt_simulator)["DEMO-0002"]  # WDT got its ack: the outbox holds the event for the mall
    delivery = db.session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.event == "stock.changed", WebhookDelivery.state == "pending")
    )
    assert delivery.attempts >= 1 and "503" in delivery.last_error
    mall_receiver.status = 200
    delivery.next_attempt_at = delivery.created_at = NOW - timedelta(hours=1)
    db.session.commit()
    assert sweep_webhooks() == 1
    run_worker()
    sweep_webhooks()
    run_worker()
    delivered = [event for event in events(mall_receiver) if event["id"] == delivery.id]
    ok = [answer for answer in mall_receiver.answers if answer == (str(delivery.id), 200)]
    assert len(ok) == 1 and delivered[-1]["data"]["changes"][0]["quantity"] == "7"


def test_a_change_for_a_sku_the_panel_lacks_is_kept_and_applied_when_the_goods_arrive(
    shop, wdt_simulator, mall_receiver
):
    config = load_config(shop.merchant.id)
    client_for(config).push_goods(
        "mall01", [PlatformGoodsLine("G9", "G9", "DEMO-0009", "DEMO-0009", "新品", "", 1, Decimal("1"))]
    )  # pushed by another system
    result = pull_stock(shop)
    assert (result["records"], result["failed"]) == (1, 1)  # offered again and again: the run stops, not spins
    [issue] = db.session.scalars(select(PullIssue).where(PullIssue.kind == "stock")).all()
    assert (issue.reason, issue.subject, issue.resolved_at) == ("unknown_spec", "DEMO-0009", None)
    assert waiting(wdt_simulator)["DEMO-0009"]  # not acknowledged as applied
    assert mall_receiver.received == []
    assert pull_stock(shop)["failed"] == 1
    db.session.expire_all()
    assert db.session.get(PullIssue, issue.id).attempts == 3  # kept once, tried at the start of each run
    shop.post("/api/v1/goods", goods_batch({"goods_id": "G9", "name": "新品", "merchant_code": "DEMO-0009"}))
    result = pull_stock(shop)
    db.session.expire_all()
    assert db.session.get(PullIssue, issue.id).resolved_at is not None
    assert not waiting(wdt_simulator)["DEMO-0009"]
    [event] = events(mall_receiver)
    assert [(c["goods_id"], c["spec_id"], c["quantity"]) for c in event["data"]["changes"]] == [("G9", "", "100")]
    assert db.session.scalar(select(SpecStock.quantity).where(SpecStock.mall_goods_id == "G9")) == Decimal("100")


def test_stock_pull_runs_with_pull_now(shop, wdt_simulator, app):
    wdt_simulator.set_stock("DEMO-0002", quantity=5)
    output = app.test_cli_runner().invoke(args=["pull-now", shop.merchant.code]).output
    assert "stock: {'records': 1, 'applied': 1" in output


def test_a_stock_beyond_what_the_database_holds_is_kept_and_the_round_goes_on(shop, wdt_simulator, mall_receiver):
    """WDT reporting a stock of 10^20 (numeric(19,4) holds less than 10^15) must not fail the round every run."""
    wdt_simulator.set_stock("DEMO-0001", quantity=10**20)
    wdt_simulator.set_stock("DEMO-0003", delta=-3)
    result = pull_stock(shop)
    assert result["error"] is None and result["records"] == 2
    db.session.expire_all()
    stored = {(row.mall_goods_id, row.mall_spec_id): row.quantity for row in db.session.scalars(select(SpecStock))}
    assert stored["G2", ""] == Decimal("97")
    [event] = events(mall_receiver)
    assert {change["merchant_code"] for change in event["data"]["changes"]} >= {"DEMO-0003"}
    if db.engine.dialect.name != "postgresql":  # SQLite keeps amounts as text: it stores it whole
        assert stored["G1", "S1"] == Decimal(10**20)
        return
    assert stored["G1", "S1"] == Decimal("100")  # as it was
    issue = db.session.scalar(select(PullIssue))
    assert (issue.reason, issue.subject) == ("unstorable_record", "DEMO-0001")
    assert "numeric field overflow" in issue.params["detail"]
    assert {change["merchant_code"] for change in event["data"]["changes"]} == {"DEMO-0003"}


def test_a_stock_no_amount_column_takes_is_kept_on_either_database(shop, wdt_simulator, mall_receiver, edition):
    """10^30 is refused before the database is asked (an amount of 4 places beyond 28 digits); the change is kept
    as an issue, the round's other change is stored and told, and the next run fails only it again."""
    wdt_simulator.set_stock("DEMO-0001", quantity=10**30)
    wdt_simulator.set_stock("DEMO-0003", delta=-3)
    result = pull_stock(shop)
    assert result["error"] is None and (result["applied"], result["failed"]) == (1, 1)
    db.session.expire_all()
    stored = {(row.mall_goods_id, row.mall_spec_id): row.quantity for row in db.session.scalars(select(SpecStock))}
    assert (stored["G1", "S1"], stored["G2", ""]) == (Decimal("100"), Decimal("97"))
    [event] = events(mall_receiver)
    assert [change["merchant_code"] for change in event["data"]["changes"]] == ["DEMO-0003"]
    issue = db.session.scalar(select(PullIssue))
    assert (issue.reason, issue.subject) == ("unstorable_record", "DEMO-0001")
    rows = {row["spec_no"]: row for row in wdt_simulator.state()["platform_goods"]}
    assert rows["DEMO-0003"]["last_syn_num"] == 97 and not rows["DEMO-0003"]["waiting"]
    assert pull_stock(shop)["error"] is None
