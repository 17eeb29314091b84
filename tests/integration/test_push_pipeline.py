"""Orders flow to WDT by themselves: ingest API -> DB -> RQ (real Redis) -> client -> simulator (real HTTP)."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from tests.helpers import connect_to_simulator, order_payload, run_worker, stored_order
from wdtpanel.extensions import db, redis_connection
from wdtpanel.jobs import sweep_pending
from wdtpanel.models import Order, PushAttempt, WdtConfig, WebhookDelivery
from wdtpanel.push import pipeline as orders
from wdtpanel.reasons import render
from wdtpanel.wdt import editions
from wdtpanel.wdt.errors import WdtPermanentError, WdtTransientError
from wdtpanel.wdt.wire import EnterpriseWire

NOW = datetime.now(UTC)


def recent(minutes: int = 0) -> str:
    return (NOW + timedelta(minutes=minutes)).isoformat()


def fresh_order(order_no="M1001", minutes=1, **overrides):
    """An order created after the switch went on, so it is pushed."""
    times = {"created_at": recent(minutes), "paid_at": recent(minutes), "updated_at": recent(minutes)}
    return order_payload(order_no, **{**times, **overrides})


def order(mall_api, order_no="M1001") -> Order:
    db.session.expire_all()
    return db.session.scalar(select(Order).where(Order.merchant_id == mall_api.merchant.id, Order.order_no == order_no))


def sim_trade(simulator, tid):
    return next((t for t in simulator.state()["trades"] if t["tid"] == tid), None)


@pytest.fixture(params=["enterprise", "ultimate"])
def edition(request):
    return request.param


@pytest.fixture
def connected(mall_api, wdt_simulator, edition):
    connect_to_simulator(mall_api.merchant, wdt_simulator, edition=edition)
    config = db.session.scalar(select(WdtConfig).where(WdtConfig.merchant_id == mall_api.merchant.id))
    config.enabled_at = NOW
    db.session.commit()
    return mall_api


def test_posted_order_reaches_wdt_with_its_fields(connected, wdt_simulator):
    assert connected.post("/api/v1/orders", fresh_order()).status_code == 201
    run_worker()
    stored = order(connected)
    assert stored.sync_state == "pushed" and stored.pushed_version == 1
    trade = sim_trade(wdt_simulator, "M1001")
    assert trade is not None and trade["push_count"] == 1
    assert int(trade["trade_status"]) == 30 and trade["receiver_name"] == "王小明"
    lines = {line["oid"]: line for line in trade["lines"]}
    assert set(lines) == {"M1001-L1", "M1001-L2"}  # unique per seller, not the mall's per-order line ids
    assert lines["M1001-L1"]["spec_no"] == "DEMO-0001" and Decimal(str(lines["M1001-L1"]["num"])) == 2
    assert Decimal(str(lines["M1001-L1"]["price"])) == Decimal("66.60")
    shares = sum(Decimal(str(line["share_discount"])) for line in lines.values())
    assert shares == Decimal("5.00")


def test_status_change_updates_the_same_raw_trade(connected, wdt_simulator):
    connected.post("/api/v1/orders", fresh_order())
    run_worker()
    changed = fresh_order(status="received", updated_at=recent(5))
    changed["lines"][1]["refund_status"] = "applied"
    assert connected.post("/api/v1/orders", changed).get_json()["outcome"] == "updated"
    run_worker()
    trade = sim_trade(wdt_simulator, "M1001")
    assert trade["push_count"] == 2 and int(trade["trade_status"]) == 60
    assert int({line["oid"]: line for line in trade["lines"]}["M1001-L2"]["refund_status"]) == 2
    assert len(wdt_simulator.state()["trades"]) == 1
    assert order(connected).pushed_version == 2


def test_refund_after_shipment_goes_to_the_refund_interface(connected, wdt_simulator):
    connected.post("/api/v1/orders", fresh_order(status="shipped"))
    run_worker()
    refunded = fresh_order(status="shipped", updated_at=recent(5))
    refunded["lines"][0]["refund_status"] = "refunded"
    connected.post("/api/v1/orders", refunded)
    run_worker()
    assert order(connected).sync_state == "pushed"
    refunds = wdt_simulator.state()["refunds"]
    assert [r["tid"] for r in refunds] == ["M1001"]
    assert order(connected).lines[0].refund_pushed_status == "refunded"


def test_missing_merchant_code_becomes_abnormal_with_the_line_named(connected, wdt_simulator):
    payload = fresh_order()
    payload["lines"][1]["merchant_code"] = ""
    connected.post("/api/v1/orders", payload)
    run_worker()
    stored = order(connected)
    assert stored.sync_state == "abnormal" and stored.sync_reason == "missing_merchant_code"
    assert "第 2 行" in render(stored.sync_reason, stored.sync_params) and "茶叶" in render(
        stored.sync_reason, stored.sync_params
    )
    assert sim_trade(wdt_simulator, "M1001") is None


def test_unknown_merchant_code_is_abnormal_and_the_rest_of_the_batch_lands(connected, wdt_simulator):
    bad = fresh_order("BAD1")
    bad["lines"][0]["merchant_code"] = "NOT-IN-WDT"
    for payload in (fresh_order("GOOD1"), bad, fresh_order("GOOD2")):
        connected.post("/api/v1/orders", payload)
    redis_connection().flushdb()  # drop the three single-order jobs: the sweeper queues all three as one batch
    for stored in (order(connected, "GOOD1"), order(connected, "BAD1"), order(connected, "GOOD2")):
        stored.enqueued_at = None
    db.session.commit()
    sweep_pending()
    run_worker()
    assert order(connected, "BAD1").sync_state == "abnormal"
    assert order(connected, "BAD1").sync_reason == "unknown_merchant_code"
    assert "NOT-IN-WDT" in str(order(connected, "BAD1").sync_params)
    assert order(connected, "GOOD1").sync_state == order(connected, "GOOD2").sync_state == "pushed"
    assert sim_trade(wdt_simulator, "BAD1") is None


def test_transient_failure_is_retried_then_succeeds(connected, wdt_simulator):
    wdt_simulator.fail_next("5xx", 1)
    connected.post("/api/v1/orders", fresh_order())
    run_worker()
    stored = order(connected)
    assert stored.sync_state == "pushed" and stored.push_attempts == 2
    outcomes = db.session.scalars(
        select(PushAttempt.outcome).where(PushAttempt.order_id == stored.id).order_by(PushAttempt.id)
    ).all()
    assert outcomes == ["retry", "pushed"]
    assert sim_trade(wdt_simulator, "M1001")["push_count"] == 1


def test_5xx_until_the_last_try_is_checked_with_wdt_before_abnormal(connected, wdt_simulator, edition):
    wdt_simulator.fail_next("5xx", 4)  # every try of the push; the question afterwards is answered
    connected.post("/api/v1/orders", fresh_order())
    run_worker()
    stored = order(connected)
    assert stored.push_attempts == 4  # the first try and three retries
    if edition == "ultimate":  # WDT says it has no such trade: a real failure
        assert (stored.sync_state, stored.sync_reason) == ("abnormal", "http_5xx")
    else:  # enterprise offers no raw-trade query: unconfirmed, not abnormal, and no abnormal webhook
        assert stored.sync_state == "unconfirmed" and stored.sync_params == {"detail": "http_5xx"}
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


@pytest.mark.parametrize("fault", ["timeout_after_store", "5xx_after_store"])
def test_answer_lost_after_wdt_stored_the_trade_is_never_abnormal(connected, wdt_simulator, edition, fault):
    wdt_simulator.fail_next(fault, 4)
    connected.post("/api/v1/orders", fresh_order())
    run_worker()
    stored = order(connected)
    assert sim_trade(wdt_simulator, "M1001") is not None
    expected = "pushed" if edition == "ultimate" else "unconfirmed"  # asked WDT / could not ask
    assert stored.sync_state == expected and stored.sync_state != "abnormal"
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    if edition == "ultimate":
        assert stored.pushed_version == 1


@pytest.mark.parametrize("edition", ["enterprise"], indirect=True)  # ultimate asks WDT at once (test above)
def test_unconfirmed_order_is_pushed_again_and_settled(connected, wdt_simulator):
    wdt_simulator.fail_next("timeout_after_store", 4)
    connected.post("/api/v1/orders", fresh_order())
    run_worker()
    stored = order(connected)
    assert stored.sync_state == "unconfirmed"
    stored.last_attempt_at = NOW - timedelta(hours=1)
    db.session.commit()
    sweep_pending()  # the recheck: the same trade again, idempotent by tid
    run_worker()
    stored = order(connected)
    assert stored.sync_state == "pushed" and sim_trade(wdt_simulator, "M1001")["push_count"] == 5


def test_historical_order_is_never_pushed(connected, wdt_simulator):
    connected.post("/api/v1/orders", order_payload("OLD", created_at=(NOW - timedelta(days=1)).isoformat()))
    run_worker()
    sweep_pending()
    run_worker()
    assert order(connected, "OLD").sync_state == "historical"
    assert sim_trade(wdt_simulator, "OLD") is None


def test_same_snapshot_twice_pushes_once(connected, wdt_simulator):
    connected.post("/api/v1/orders", fresh_order())
    connected.post("/api/v1/orders", fresh_order())
    run_worker()
    assert sim_trade(wdt_simulator, "M1001")["push_count"] == 1


def test_older_snapshot_after_newer_pushes_nothing(connected, wdt_simulator):
    connected.post("/api/v1/orders", fresh_order(status="received", updated_at=recent(10)))
    run_worker()
    connected.post("/api/v1/orders", fresh_order(status="paid", updated_at=recent(2)))
    run_worker()
    trade = sim_trade(wdt_simulator, "M1001")
    assert trade["push_count"] == 1 and int(trade["trade_status"]) == 60


def test_two_workers_never_push_the_same_order_at_once(connected, wdt_simulator, app):
    connected.post("/api/v1/orders", fresh_order())
    order_id = order(connected).id
    redis_connection().flushdb()
    wdt_simulator.set_faults(latency_ms=300)
    results = []

    def worker():
        with app.app_context():
            results.append(orders.push_batch(connected.merchant.id, [order_id]))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r.pushed) for r in results) == [0, 1]
    assert sim_trade(wdt_simulator, "M1001")["push_count"] == 1


def test_sweeper_requeues_orders_whose_job_was_lost(connected, wdt_simulator):
    connected.post("/api/v1/orders", fresh_order())
    redis_connection().flushdb()  # Redis lost the job
    stored = order(connected)
    stored.enqueued_at = NOW - timedelta(minutes=30)
    db.session.commit()
    assert sweep_pending() == 1
    run_worker()
    assert order(connected).sync_state == "pushed"


def test_redis_down_at_ingest_loses_nothing(connected, wdt_simulator, app):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    response = connected.post("/api/v1/orders", fresh_order())
    assert response.status_code == 201 and response.get_json()["sync_state"] == "pending"
    stored = order(connected)
    assert stored.sync_state == "pending" and stored.enqueued_at is None  # durable in the database, never queued
    sweep_pending()
    run_worker()
    assert order(connected).sync_state == "pushed"


def test_wrong_secret_makes_orders_abnormal_with_a_plain_reason(connected, wdt_simulator):
    config = db.session.scalar(select(WdtConfig).where(WdtConfig.merchant_id == connected.merchant.id))
    from wdtpanel.security import encrypt_secret

    config.appsecret_encrypted = encrypt_secret("wrong:secret")
    db.session.commit()
    connected.post("/api/v1/orders", fresh_order())
    run_worker()
    stored = order(connected)
    assert stored.sync_state == "abnormal" and stored.sync_reason == "auth_failed"
    assert "旺店通拒绝了接口账号" in render(stored.sync_reason, stored.sync_params)


def test_two_staff_pressing_repush_at_once_push_once(connected, wdt_simulator, app, signed_in):
    bad = fresh_order()
    bad["lines"][0]["merchant_code"] = "LATER-1"
    connected.post("/api/v1/orders", bad)
    run_worker()
    stored = order(connected)
    assert stored.sync_state == "abnormal"
    wdt_simulator.add_goods(["LATER-1"])
    staff = [signed_in(connected.merchant.code, role) for role in ("admin", "staff")]
    url = f"/abnormal/orders/{stored.id}/repush"
    barrier, answers = threading.Barrier(2), []

    def press(client):
        barrier.wait()
        answers.append(client.post(url, headers={"X-CSRFToken": client.csrf, "HX-Request": "true"}).status_code)

    threads = [threading.Thread(target=press, args=(client,)) for client in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200, 200]
    run_worker()
    assert order(connected).sync_state == "pushed"
    assert sim_trade(wdt_simulator, "M1001")["push_count"] == 1


def test_repush_while_a_retry_is_queued_pushes_once(connected, wdt_simulator, signed_in):
    connected.post("/api/v1/orders", fresh_order())  # its job is queued, not yet run
    stored = order(connected)
    stored.sync_state, stored.sync_reason = "abnormal", "network"  # as if a try failed and staff press re-push
    db.session.commit()
    clerk = signed_in(connected.merchant.code, "staff")
    clerk.post(f"/abnormal/orders/{stored.id}/repush", headers={"X-CSRFToken": clerk.csrf, "HX-Request": "true"})
    run_worker()  # the queued job and the re-push job both run
    assert order(connected).sync_state == "pushed"
    assert sim_trade(wdt_simulator, "M1001")["push_count"] == 1


def test_orders_arriving_together_share_one_dispatch(connected, wdt_simulator):
    from wdtpanel.extensions import job_queue

    for number in range(3):
        connected.post("/api/v1/orders", fresh_order(f"M200{number}"))
    assert [job.func_name for job in job_queue().jobs] == ["wdtpanel.jobs.dispatch_pushes"]
    run_worker()
    assert {order(connected, f"M200{n}").sync_state for n in range(3)} == {"pushed"}
    attempts = db.session.scalars(select(PushAttempt.at)).all()
    assert len(attempts) == 3


def test_an_update_arriving_while_the_order_is_pushed_is_pushed_next(connected, wdt_simulator, monkeypatch):
    from wdtpanel.wdt import WdtClient

    connected.post("/api/v1/orders", fresh_order())
    real_push = WdtClient.push_trades
    posted = []

    def push_while_the_mall_updates(self, shop_no, trades, **kwargs):
        if not posted:  # the mall's update lands while WDT is being called
            posted.append(connected.post("/api/v1/orders", fresh_order(status="received", updated_at=recent(9))))
        return real_push(self, shop_no, trades, **kwargs)

    monkeypatch.setattr(WdtClient, "push_trades", push_while_the_mall_updates)
    run_worker()
    assert posted[0].get_json()["outcome"] == "updated"
    stored = order(connected)
    assert stored.sync_state == "pushed" and stored.snapshot_version == stored.pushed_version == 2
    trade = sim_trade(wdt_simulator, "M1001")
    assert trade["push_count"] == 2 and int(trade["trade_status"]) == 60


def test_an_order_that_cannot_be_encoded_does_not_hold_back_its_batch(connected, wdt_simulator):
    for number in range(5):
        connected.post("/api/v1/orders", fresh_order(f"B{number}"))
    poison = order(connected, "B2")  # a historical row the mall dated at the end of time
    poison.ordered_at = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    db.session.commit()
    run_worker()
    assert sorted(t["tid"] for t in wdt_simulator.state()["trades"]) == ["B0", "B1", "B3", "B4"]
    stored = order(connected, "B2")
    assert (stored.sync_state, stored.sync_reason) == ("abnormal", "internal_error")
    assert all(order(connected, f"B{n}").sync_state == "pushed" for n in (0, 1, 3, 4))


def test_push_outcomes_and_wdt_latency_are_counted(connected, wdt_simulator, edition):
    from prometheus_client import REGISTRY, generate_latest

    connected.post("/api/v1/orders", fresh_order())
    run_worker()
    text = generate_latest(REGISTRY).decode()
    method = "trade_push" if edition == "enterprise" else "sales.RawTrade.pushSelf2"
    assert f'wdtpanel_wdt_call_seconds_count{{edition="{edition}",method="{method}"}}' in text
    assert 'wdtpanel_push_outcomes_total{outcome="pushed",reason=""}' in text


def test_a_push_failing_part_way_keeps_what_wdt_took(mall_api, wdt_simulator, monkeypatch):
    """35 orders of one buyer go in two enterprise calls (at most 30 of one buyer per call); WDT takes the first,
    then refuses the account: the 30 it holds are pushed, only the 5 others end abnormal."""
    connect_to_simulator(mall_api.merchant, wdt_simulator, edition="enterprise")
    db.session.scalar(select(WdtConfig).where(WdtConfig.merchant_id == mall_api.merchant.id)).enabled_at = NOW
    db.session.commit()
    for number in range(35):
        assert mall_api.post("/api/v1/orders", fresh_order(f"B{number:03d}")).status_code == 201
    calls, original = [], EnterpriseWire.push_trades

    def second_call_refused(self, shop_no, trades, strict):
        calls.append(len(trades))
        if len(calls) == 2:
            raise WdtPermanentError("auth_failed", wdt_message="appsecret 已被重置")
        return original(self, shop_no, trades, strict)

    monkeypatch.setattr(EnterpriseWire, "push_trades", second_call_refused)
    run_worker()
    db.session.expire_all()
    states = dict(db.session.execute(select(Order.order_no, Order.sync_state)).all())
    held = {trade["tid"] for trade in wdt_simulator.state()["trades"]}
    assert calls == [30, 5] and len(held) == 30 and all(states[tid] == "pushed" for tid in held)
    assert sorted(state for no, state in states.items() if no not in held) == ["abnormal"] * 5


def test_trades_taken_before_a_later_call_timed_out_wait_for_the_retry_to_send_their_refunds(
    mall_api, wdt_simulator, monkeypatch
):
    """Call 1 (30 shipped orders with a refunded line) is taken, call 2 times out and WDT stays unreachable for a
    moment: the refunds of the 30 are not sent into the outage (they would come back abnormal) but with the retry."""
    connect_to_simulator(mall_api.merchant, wdt_simulator, edition="enterprise")
    db.session.scalar(select(WdtConfig).where(WdtConfig.merchant_id == mall_api.merchant.id)).enabled_at = NOW
    db.session.commit()
    for number in range(35):
        payload = fresh_order(f"R{number:03d}", status="shipped")
        payload["lines"][0]["refund_status"] = "refunded"
        assert mall_api.post("/api/v1/orders", payload).status_code == 201
    calls, outage = [], []
    push_trades, push_refunds = EnterpriseWire.push_trades, EnterpriseWire.push_refunds

    def second_call_times_out(self, shop_no, trades, strict):
        calls.append(len(trades))
        outage.clear()
        if len(calls) == 2:
            outage.append(True)
            raise WdtTransientError("timeout")
        return push_trades(self, shop_no, trades, strict)

    def unreachable_during_the_outage(self, shop_no, refunds):
        if outage:
            raise WdtTransientError("network")
        return push_refunds(self, shop_no, refunds)

    monkeypatch.setattr(EnterpriseWire, "push_trades", second_call_times_out)
    monkeypatch.setattr(EnterpriseWire, "push_refunds", unreachable_during_the_outage)
    run_worker()
    db.session.expire_all()
    states = set(db.session.scalars(select(Order.sync_state)))
    assert calls[:2] == [30, 5] and states == {"pushed"}
    assert len({refund["tid"] for refund in wdt_simulator.state()["refunds"]}) == 35


def test_refunds_of_a_batch_go_to_wdt_with_no_write_held(connected, wdt_simulator, wdt_calls):
    """A refund WDT took is recorded with the batch, not at once: held open across the next order's refund call,
    that write would stall every writer (on SQLite: the mall's orders, and the lease renewed before the call)."""
    order_nos = ["F1", "F2", "F3"]
    for no in order_nos:
        connected.post("/api/v1/orders", fresh_order(no, status="shipped"))
    run_worker()
    for no in order_nos:
        refunded = fresh_order(no, status="shipped", updated_at=recent(5))
        refunded["lines"][0]["refund_status"] = "refunded"
        connected.post("/api/v1/orders", refunded)
    wdt_calls.clear()
    run_worker()
    assert len([name for name, _ in wdt_calls if "refund" in name.lower()]) >= 2
    assert not any(holding for _, holding in wdt_calls), wdt_calls
    assert sorted(r["tid"] for r in wdt_simulator.state()["refunds"]) == order_nos
    assert all(order(connected, no).lines[0].refund_pushed_status == "refunded" for no in order_nos)
    assert {order(connected, no).sync_state for no in order_nos} == {"pushed"}


def test_a_lost_answer_after_a_taken_call_asks_wdt_with_no_write_held(mall_api, wdt_simulator, monkeypatch, wdt_calls):
    """Call 1 of 2 is taken, call 2's answer is lost on the last try: the 30 taken are recorded with the rest, after
    WDT was asked which of the 5 it holds, so no write waits across that query."""
    monkeypatch.setattr(editions, "ENTERPRISE_RAW_TRADE_QUERY", True)
    connect_to_simulator(mall_api.merchant, wdt_simulator, edition="enterprise")
    db.session.scalar(select(WdtConfig).where(WdtConfig.merchant_id == mall_api.merchant.id)).enabled_at = NOW
    db.session.commit()
    for number in range(35):
        assert mall_api.post("/api/v1/orders", fresh_order(f"L{number:03d}")).status_code == 201
    redis_connection().flushdb()  # pushed below, in this process, as the batch's last try
    calls, push_trades = [], EnterpriseWire.push_trades

    def second_answer_lost(self, shop_no, trades, strict):
        calls.append(len(trades))
        if len(calls) == 2:
            raise WdtTransientError("timeout")
        return push_trades(self, shop_no, trades, strict)

    monkeypatch.setattr(EnterpriseWire, "push_trades", second_answer_lost)
    order_ids = list(db.session.scalars(select(Order.id).where(Order.merchant_id == mall_api.merchant.id)))
    orders.push_batch(mall_api.merchant.id, order_ids, last_try=True)
    assert calls == [30, 5]
    assert any("query" in name for name, _ in wdt_calls)
    assert not any(holding for _, holding in wdt_calls), wdt_calls
    db.session.expire_all()
    states = dict(db.session.execute(select(Order.order_no, Order.sync_state)).all())
    held = {trade["tid"] for trade in wdt_simulator.state()["trades"]}
    assert len(held) == 30 and all(states[tid] == "pushed" for tid in held)
    assert sorted(state for no, state in states.items() if no not in held) == ["abnormal"] * 5


@pytest.mark.skipif(
    not os.environ.get("WDTPANEL_TEST_DATABASE_URL"),
    reason="PostgreSQL only: SQLite's wait (busy_timeout) is set as each connection opens, to LOCK_WAIT_MS",
)
def test_a_lease_blocked_by_a_lock_held_elsewhere_fails_the_renewal_instead_of_waiting_for_ever(
    make_merchant, monkeypatch
):
    merchant, _ = make_merchant("lease")
    stored = stored_order(merchant, 1, state="pending", reason=None, claim_token="T1")
    monkeypatch.setattr(orders, "LOCK_WAIT_MS", 200)
    lease = orders.Lease("T1")
    lease.renewed -= orders.RENEW_AFTER_SECONDS
    with db.engine.connect() as elsewhere, elsewhere.begin():
        elsewhere.execute(select(Order.id).where(Order.id == stored.id).with_for_update())
        with pytest.raises(OperationalError) as refused:
            lease.renew()
    assert refused.value.orig.sqlstate == "55P03"  # lock_not_available
    lease.renew()  # the lock gone, the lease is renewed
    db.session.expire_all()
    assert db.session.get(Order, stored.id).claimed_until is not None
