"""Faults against the whole system as real processes (tests/stack.py): a worker killed with kill -9 mid-push, Redis
stopped during ingest, WDT failing for a minute, the mall down for a minute, the mall's clock off by minutes.
Each ends with the same checks: every order pushed or abnormal with a reason, none lost, WDT holds each pushed
trade, every webhook delivered once per event. Run in parallel (`pytest tests/faults -n 6`): each test has its
own processes, ports and database. With WDTPANEL_TEST_DATABASE_URL set, each stack gets a PostgreSQL database of its
own; `make test` runs the faults marked postgresql_too that way as well (where the database's locking and the
ingest's statements differ), the others on SQLite only (their outcome does not rest on the database)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.helpers import order_payload
from tests.stack import Mall, Stack, database_of_its_own, wait_for

pytestmark = pytest.mark.faults
SETTLE_SECONDS = 180


@pytest.fixture
def stack(tmp_path, request):
    options = getattr(request, "param", {})
    stack = Stack(tmp_path, database=database_of_its_own(request.node.nodeid), **options)
    yield stack
    stack.stop()


@pytest.fixture
def mall(stack, mall_receiver):
    return Mall(stack, *stack.connect_merchant(mall_receiver.url))


def new_order(order_no: str) -> dict:
    stamp = datetime.now(UTC).isoformat()
    return order_payload(order_no, created_at=stamp, paid_at=stamp, updated_at=stamp)


def orders_of(stack: Stack) -> dict:
    from wdtpanel.extensions import db
    from wdtpanel.models import Order

    with stack.app().app_context():
        return {order.order_no: (order.sync_state, order.sync_reason) for order in db.session.scalars(select(Order))}


def assert_settled(stack: Stack, mall_receiver, order_nos: list[str]) -> None:
    """None lost; each pushed (and in WDT) or abnormal with a reason; every outbox event delivered exactly once."""
    from wdtpanel.extensions import db
    from wdtpanel.models import WebhookDelivery

    def final():
        states = orders_of(stack)
        done = all(states.get(no, ("", None))[0] in ("pushed", "abnormal") for no in order_nos)
        return states if done else None

    states = wait_for(final, SETTLE_SECONDS)
    assert states, f"not settled: {Counter(state for state, _ in orders_of(stack).values())}"
    assert set(order_nos) <= set(states)
    assert all(reason for state, reason in states.values() if state == "abnormal")
    in_wdt = Counter(trade["tid"] for trade in stack.simulator_state()["trades"])
    assert all(in_wdt[no] == 1 for no, (state, _) in states.items() if state == "pushed")

    def delivered():
        with stack.app().app_context():
            events = db.session.scalars(select(WebhookDelivery)).all()
            return (events,) if all(event.state == "delivered" for event in events) else None

    done = wait_for(delivered, SETTLE_SECONDS)
    assert done, "webhooks still pending"
    events = done[0]
    accepted = Counter(delivery for delivery, status in mall_receiver.answers if status == 200)
    assert {str(event.id) for event in events} == set(accepted) and set(accepted.values()) <= {1}


@pytest.mark.postgresql_too
def test_a_worker_killed_mid_push_leaves_nothing_behind(stack, mall, mall_receiver):
    stack.simulator("/_sim/faults", {"latency_ms": 4000})
    order_nos = [f"K{n}" for n in range(10)]
    for no in order_nos:
        assert mall.post("/api/v1/orders", new_order(no)).status_code == 201

    def claimed():
        from wdtpanel.extensions import db
        from wdtpanel.models import Order

        with stack.app().app_context():
            return db.session.scalar(select(Order.id).where(Order.claim_token.is_not(None)))

    assert wait_for(claimed, 30, every=0.1), "no push started"
    killed = time.monotonic()
    stack.kill("worker1")
    stack.kill("worker2")
    stack.simulator("/_sim/faults", {})
    in_wdt = wait_for(lambda: {t["tid"] for t in stack.simulator_state()["trades"]} >= set(order_nos), 150)
    assert in_wdt and time.monotonic() - killed < 120  # every order reached WDT within two minutes of the kill
    assert_settled(stack, mall_receiver, order_nos)


@pytest.mark.postgresql_too
def test_redis_stopped_during_ingest_loses_nothing(stack, mall, mall_receiver):
    order_nos, answers, sent_while_down = [], [], 0
    started = time.monotonic()
    redis_down = False
    for number in range(60):
        elapsed = time.monotonic() - started
        if 5 <= elapsed < 25 and not redis_down:
            stack.stop_redis()
            redis_down = True
        if elapsed >= 25 and redis_down:
            stack.start_redis()
            redis_down = False
        order_no = f"R{number}"
        order_nos.append(order_no)
        answers.append(mall.post("/api/v1/orders", new_order(order_no)).status_code)
        sent_while_down += redis_down
        time.sleep(0.5)
    if redis_down:
        stack.start_redis()
    assert sent_while_down >= 10  # however slow the host, the outage met many orders
    assert set(answers) == {201}  # the database takes every order while Redis is away
    assert_settled(stack, mall_receiver, order_nos)
    assert {state for state, _ in orders_of(stack).values()} == {"pushed"}


@pytest.mark.parametrize("stack", [{"edition": "enterprise"}, {"edition": "ultimate"}], indirect=True)
def test_wdt_failing_for_a_minute_ends_every_order_pushed_or_abnormal(stack, mall, mall_receiver):
    stack.simulator(
        "/_sim/faults",
        {"error_5xx_rate": 0.3, "timeout_rate": 0.2, "rate_limit_rate": 0.2, "timeout_sleep_s": 4, "seed": 7},
    )
    order_nos = []
    started = time.monotonic()
    while time.monotonic() - started < 60:
        order_no = f"W{len(order_nos)}"
        order_nos.append(order_no)
        assert mall.post("/api/v1/orders", new_order(order_no)).status_code == 201
        time.sleep(2)
    stack.simulator("/_sim/faults", {})
    assert_settled(stack, mall_receiver, order_nos)


@pytest.mark.postgresql_too
def test_mall_down_for_a_minute_gets_every_shipment_once(stack, mall, mall_receiver):
    order_nos = [f"S{n}" for n in range(5)]
    for no in order_nos:
        assert mall.post("/api/v1/orders", new_order(no)).status_code == 201
    assert wait_for(lambda: {t["tid"] for t in stack.simulator_state()["trades"]} >= set(order_nos), 60)
    mall_receiver.status = 503
    for number, no in enumerate(order_nos):
        stack.simulator(f"/_sim/trades/{no}/ship", {"logistics_code": "ZTO", "logistics_no": f"ZT{number}"})
    time.sleep(60)
    assert all(status == 503 for _, status in mall_receiver.answers) and mall_receiver.answers
    mall_receiver.status = 200
    assert_settled(stack, mall_receiver, order_nos)
    shipped = Counter(delivery for delivery, status in mall_receiver.answers if status == 200)
    assert len(shipped) == 5


def test_mall_clock_four_minutes_off_is_accepted_and_further_is_refused(stack, mall, mall_receiver):
    assert mall.post("/api/v1/orders", new_order("C1"), clock_skew=240).status_code == 201
    assert mall.post("/api/v1/orders", new_order("C2"), clock_skew=-240).status_code == 201
    refused = mall.post("/api/v1/orders", new_order("C3"), clock_skew=-400)
    assert refused.status_code == 401 and "X-Timestamp" in refused.json()["message"]
    assert_settled(stack, mall_receiver, ["C1", "C2"])
    assert "C3" not in orders_of(stack)


@pytest.mark.parametrize("stack", [{"settings": {"WDT_CALLS_PER_MINUTE": "50"}}], indirect=True)
def test_600_orders_under_a_quota_of_60_calls_a_minute_are_paced_not_refused(stack, mall, mall_receiver):
    stack.simulator("/_sim/quota", {"calls_per_minute": 60})
    order_nos = [f"Q{n}" for n in range(600)]
    started = time.monotonic()
    for number, order_no in enumerate(order_nos):  # ten a second for a minute, as a busy mall sends them
        assert mall.post("/api/v1/orders", new_order(order_no)).status_code == 201
        time.sleep(max(0.0, started + number / 10 - time.monotonic()))
    assert_settled(stack, mall_receiver, order_nos)
    assert {state for state, _ in orders_of(stack).values()} == {"pushed"}
    assert stack.http.get(f"{stack.simulator_url}/_sim/quota", timeout=10).json()["refused"] == 0
