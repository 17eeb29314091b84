"""Push orders to WDT: schedule, claim, check, push in batches, record each outcome.

The database is the source of truth: an order to push is `pending` until a push ends as `pushed`, `abnormal` or
`unconfirmed`. Workers claim orders with a short lease, renewed before every WDT call while the push runs, so two
workers never push the same order at once and a dead worker's orders are taken up again within two minutes; the
sweeper re-schedules pending orders whose job was lost."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from sqlalchemy import and_, bindparam, func, insert, or_, select, tuple_, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import selectinload

from .. import webhooks
from ..columns import utcnow
from ..extensions import LOCK_WAIT_MS, db
from ..merchant_config import client_for, heartbeat_while_calling, load_config, pacer_for
from ..metrics import count_push
from ..models import Order, OrderLine, PushAttempt, WdtConfig
from ..reasons import render
from ..states import AttemptOutcome, OrderState
from ..wdt import BATCH_LIMITS, RawRefund, RawTrade, WdtClient, WdtError
from ..wdt.errors import WdtUnsupported
from .trade_mapping import encodable, redacted, refunds_to_push, to_raw_trade

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=50)  # renewed before a pacing wait (≤ 45 s) and before each call (connect 5 s + read 30 s)
RENEW_AFTER_SECONDS = 5  # a lease younger than this still covers any wait or call (45 s) ahead
LOST_AFTER = timedelta(seconds=90)  # a queued order no worker claimed for this long lost its job
RATE_LIMIT_BACK_OFF = 60  # seconds without calls after WDT says we call too often
# Failures after which the trade may have landed in WDT although no answer came back.
ANSWER_LOST = ("timeout", "http_5xx", "bad_response", "network")


@dataclass
class Problem:
    reason: str  # a code of wdtpanel/reasons.py
    params: dict = field(default_factory=dict)
    wdt_message: str | None = None


def problem_from(error: WdtError) -> Problem:
    return Problem(error.code, error.params, error.wdt_message)


@dataclass
class PushSummary:
    pushed: list[int] = field(default_factory=list)
    abnormal: list[int] = field(default_factory=list)
    unconfirmed: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # not claimed: another worker has them, or done already
    changed: list[int] = field(default_factory=list)  # updated while being pushed: to be queued again
    deliveries: list[int] = field(default_factory=list)  # webhook outbox rows to enqueue after commit


class PushDeferred(Exception):
    """A transient failure: the job raises this so RQ tries it again later."""

    def __init__(self, error: WdtError, deliveries: list[int]):
        super().__init__(str(error))
        self.error, self.deliveries = error, deliveries


def batch_size(config: WdtConfig, override: int | None = None) -> int:
    limit = BATCH_LIMITS[config.edition].trades
    return min(override, limit) if override else limit


# --- scheduling --------------------------------------------------------------------------------


def due_pending_ids(
    merchant_id: int, now: datetime, order_ids: list[int] | None = None, only_lost: bool = False
) -> list[int]:
    """Pending orders no job holds: never queued (or re-pushed since), or — for the sweeper — whose job must be
    lost: queued long ago and never claimed, or claimed by a worker whose lease ran out."""
    query = select(Order.id).where(
        Order.merchant_id == merchant_id,
        Order.sync_state == OrderState.PENDING,
        or_(Order.claimed_until.is_(None), Order.claimed_until < now),
        or_(Order.next_attempt_at.is_(None), Order.next_attempt_at <= now),
    )
    if order_ids is not None:
        query = query.where(Order.id.in_(order_ids))
    if only_lost:
        last_touch = func.coalesce(Order.next_attempt_at, Order.enqueued_at)
        query = query.where(
            or_(
                Order.enqueued_at.is_(None),
                last_touch < now - LOST_AFTER,
                and_(Order.claim_token.is_not(None), Order.claimed_until < now),
            )
        )
    else:
        query = query.where(Order.enqueued_at.is_(None))
    return list(db.session.scalars(query.order_by(Order.id)))


def plan_batches(
    merchant_id: int, order_ids: list[int] | None = None, *, only_lost: bool = False, size: int | None = None
) -> list[list[int]]:
    """Mark due pending orders as queued and split them into batches; the caller enqueues after commit."""
    config = load_config(merchant_id)
    if config is None or not config.enabled:
        return []
    now = utcnow()
    ids = due_pending_ids(merchant_id, now, order_ids, only_lost)
    if not ids:
        return []
    db.session.execute(update(Order).where(Order.id.in_(ids)).values(enqueued_at=now))
    step = batch_size(config, size)
    return [ids[i : i + step] for i in range(0, len(ids), step)]


def recheck_unconfirmed(now: datetime) -> int:
    """Unconfirmed orders go back to pending after a while: the next push settles whether WDT has them."""
    result = db.session.execute(
        update(Order)
        .where(
            Order.sync_state == OrderState.UNCONFIRMED,
            Order.last_attempt_at < now - timedelta(seconds=current_app.config["UNCONFIRMED_RECHECK_SECONDS"]),
        )
        .values(sync_state=OrderState.PENDING, retry_count=0, next_attempt_at=None, enqueued_at=None)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult, result).rowcount


def lost_pending_merchants() -> list[int]:
    """Merchants (integration on) with pending orders that may need a new job."""
    query = (
        select(Order.merchant_id)
        .join(WdtConfig, WdtConfig.merchant_id == Order.merchant_id)
        .where(WdtConfig.enabled.is_(True), Order.sync_state == OrderState.PENDING)
        .distinct()
    )
    return list(db.session.scalars(query))


# --- pushing -----------------------------------------------------------------------------------


def claim(merchant_id: int, order_ids: list[int]) -> tuple[str, list[Order]]:
    """Take the orders that are still pending and not held by another worker. Commits: the claim is the protocol."""
    token, now = str(uuid.uuid4()), utcnow()
    db.session.execute(
        update(Order)
        .where(
            Order.merchant_id == merchant_id,
            Order.id.in_(order_ids),
            Order.sync_state == OrderState.PENDING,
            or_(Order.claimed_until.is_(None), Order.claimed_until < now),
        )
        .values(claim_token=token, claimed_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()  # protocol: the claim is visible to other workers before WDT is called
    orders = db.session.scalars(
        select(Order).where(Order.claim_token == token).options(selectinload(Order.lines)).order_by(Order.id)
    ).all()
    return token, list(orders)


class Lease:
    """A push's hold on its orders, renewed before WDT calls unless it was renewed (or claimed) in the last few
    seconds, so what is left always covers the wait or call ahead; on a connection of its own: the push's session
    holds no write while WDT is called."""

    def __init__(self, token: str):
        self.token, self.renewed = token, time.monotonic()

    def renew(self) -> None:
        if time.monotonic() - self.renewed < RENEW_AFTER_SECONDS:
            return
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # a lock held elsewhere fails the push, as on SQLite: no hang
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = {LOCK_WAIT_MS}")
            connection.execute(
                update(Order).where(Order.claim_token == self.token).values(claimed_until=utcnow() + LEASE)
            )
        self.renewed = time.monotonic()


def check_order(order: Order, config: WdtConfig) -> Problem | None:
    """What stops an order from being pushed before WDT is asked."""
    missing = [name for name in ("sid", "appkey", "appsecret_encrypted", "shop_no") if not getattr(config, name)]
    if missing:
        return Problem("config_incomplete", {"missing": ", ".join(missing)})
    for number, line in enumerate(order.lines, start=1):
        if not line.merchant_code:
            return Problem(
                "missing_merchant_code",
                {"line": number, "goods": line.goods_name, "spec": line.spec_name or line.mall_spec_id or "-"},
            )
    return None


def push_batch(merchant_id: int, order_ids: list[int], *, last_try: bool = True) -> PushSummary:
    """Push the given orders in one WDT batch (the client splits above WDT's limit)."""
    summary = PushSummary()
    config = load_config(merchant_id)
    if config is None or not config.enabled:
        return summary
    token, orders = claim(merchant_id, order_ids)
    summary.skipped = sorted(set(order_ids) - {order.id for order in orders})
    try:
        with heartbeat_while_calling(Lease(token).renew):
            claimed = [_prepare(order, config) for order in orders]
            _let_go(orders)
            _push_claimed(config, token, claimed, summary, last_try)
        db.session.commit()  # every outcome of the batch in one transaction
    except PushDeferred:
        db.session.commit()  # the tries are recorded before RQ retries the job
        raise
    finally:
        db.session.rollback()  # after any other error the orders stay pending and are pushed again
        _release(token)
    return summary


def _let_go(orders: list[Order]) -> None:
    """The orders are read: out of the session, so the commits ahead need not expire thousands of orders and
    lines."""
    for order in orders:
        for line in order.lines:
            db.session.expunge(line)
        db.session.expunge(order)


@dataclass
class Claimed:
    """A claimed order as it was when claimed (a newer snapshot may arrive while WDT is called), what goes to WDT,
    or why it cannot go."""

    order_id: int
    merchant_id: int
    order_no: str
    version: int
    retry_count: int
    pushed_before: bool  # WDT had an earlier version
    trade: RawTrade | None = None
    refunds: list[tuple[int, str, RawRefund]] = field(default_factory=list)  # (line id, refund status, refund)
    problem: Problem | None = None


@dataclass
class Outcome:
    item: Claimed
    outcome: AttemptOutcome
    problem: Problem | None = None
    trade_accepted: bool = False  # WDT holds this version now (even if a refund of it was refused)
    refunds_taken: list[dict] = field(default_factory=list)  # {"line_id", "status"} of each refund WDT took


def _prepare(order: Order, config: WdtConfig) -> Claimed:
    """Everything the push needs of the order, read once. Whatever goes wrong here stays with this one order."""
    item = Claimed(
        order.id,
        order.merchant_id,
        order.order_no,
        order.snapshot_version,
        order.retry_count,
        order.pushed_version is not None,
    )
    try:
        item.problem = check_order(order, config)
        if item.problem is None:
            item.trade = to_raw_trade(order)
            encodable(config.edition, item.trade)
            item.refunds = [(line.id, line.refund_status, refund) for line, refund in refunds_to_push(order, utcnow())]
    except Exception as error:
        log.exception("order %s could not be prepared for WDT", order.order_no)
        item.trade, item.problem = None, Problem("internal_error", {"detail": type(error).__name__})
    return item


def _push_claimed(config: WdtConfig, token: str, claimed: list[Claimed], summary: PushSummary, last_try: bool) -> None:
    ready = [item for item in claimed if item.problem is None]
    _record(token, [Outcome(item, AttemptOutcome.ABNORMAL, item.problem) for item in claimed if item.problem], summary)
    db.session.commit()  # no write stays open while WDT is called (the lease is renewed on another connection)
    if not ready:
        return
    client = client_for(config)
    try:
        results = client.push_trades(config.shop_no, [_trade(item) for item in ready], strict=True)
    except WdtError as error:
        if error.code == "rate_limited":
            pacer_for(config).back_off(RATE_LIMIT_BACK_OFF)
        deferred = error.transient and not last_try
        answered = error.partial_results or {}  # calls that went through before this one failed: WDT holds those
        outcomes = [
            _answered(client, config, item, answered, error if deferred else None)
            for item in ready
            if item.order_no in answered
        ]
        ready = [item for item in ready if item.order_no not in answered]
        if deferred:
            outcomes += [Outcome(item, AttemptOutcome.RETRY, problem_from(error)) for item in ready]
        elif ready and error.code in ANSWER_LOST:
            outcomes += _settle_lost_answer(client, config, ready, error)
        else:
            outcomes += [Outcome(item, AttemptOutcome.ABNORMAL, problem_from(error)) for item in ready]
        _record(token, outcomes, summary)  # after the last WDT call: no write is held across one
        if deferred:
            raise PushDeferred(error, summary.deliveries) from error
        return
    _record(token, [_answered(client, config, item, results) for item in ready], summary)


def _answered(
    client: WdtClient,
    config: WdtConfig,
    item: Claimed,
    results: dict[str, WdtError | None],
    retrying: WdtError | None = None,
) -> Outcome:
    """The outcome of a trade WDT answered. `retrying`: a later call of the same push failed and will be retried;
    then refunds wait for that retry rather than meet WDT's failure at once."""
    refusal = results.get(item.order_no)
    if refusal is not None:
        return Outcome(item, AttemptOutcome.ABNORMAL, problem_from(refusal))
    if retrying is not None and item.refunds:
        return Outcome(item, AttemptOutcome.RETRY, problem_from(retrying), True)
    return _accepted(client, config, item)


def _trade(item: Claimed) -> RawTrade:
    if item.trade is None:  # _prepare leaves a trade or a problem
        raise ValueError(f"order {item.order_no} was prepared without a trade or a problem")
    return item.trade


def _accepted(client: WdtClient, config: WdtConfig, item: Claimed) -> Outcome:
    """WDT took the trade; its after-sale refunds go next."""
    problem, taken = _push_refunds(client, config, item)
    return Outcome(item, AttemptOutcome.PUSHED if problem is None else AttemptOutcome.ABNORMAL, problem, True, taken)


def _settle_lost_answer(client: WdtClient, config: WdtConfig, claimed: list[Claimed], error: WdtError) -> list[Outcome]:
    """The push got no answer: ask WDT which trades it holds before calling any order abnormal. A first push that
    WDT holds is pushed; a trade WDT lacks is abnormal; where WDT cannot be asked (no query in the edition, or the
    query fails too), or holds an older version, the order is unconfirmed and the next push settles it."""
    try:
        held = client.find_raw_trades(config.shop_no, [item.order_no for item in claimed])
    except (WdtUnsupported, WdtError):
        held = None
    unconfirmed = Problem("unconfirmed", {"detail": error.code}, error.wdt_message)
    outcomes = []
    for item in claimed:
        in_wdt = bool(held and held.get(item.order_no))
        if held is None or (in_wdt and item.pushed_before):
            outcomes.append(Outcome(item, AttemptOutcome.UNCONFIRMED, unconfirmed))
        elif in_wdt:
            outcomes.append(_accepted(client, config, item))
        else:
            outcomes.append(Outcome(item, AttemptOutcome.ABNORMAL, problem_from(error)))
    return outcomes


def _push_refunds(client: WdtClient, config: WdtConfig, item: Claimed) -> tuple[Problem | None, list[dict]]:
    """After shipment, refunds also go to WDT's refund interface (the trade is in WDT by now). What went wrong, and
    the refunds WDT took (recorded with the batch's outcomes, after its last WDT call)."""
    if not item.refunds:
        return None, []
    try:
        errors = client.push_refunds(config.shop_no, [refund for _, _, refund in item.refunds])
    except WdtError as error:
        return problem_from(error), []
    taken = [
        {"line_id": line_id, "status": status}
        for line_id, status, refund in item.refunds
        if errors.get(refund.refund_no) is None
    ]
    failed = "; ".join(f"{no}: {text}" for no, text in errors.items() if text)
    return (Problem("refund_rejected", {"detail": failed}, failed) if failed else None), taken


def _state_values(outcome: AttemptOutcome, problem: Problem | None, retry_count: int, now: datetime) -> dict:
    if outcome == AttemptOutcome.PUSHED:
        return {
            "sync_state": OrderState.PUSHED,
            "pushed_at": now,
            "sync_reason": None,
            "sync_params": {},
            "next_attempt_at": None,
        }
    assert problem is not None
    if outcome == AttemptOutcome.RETRY:
        intervals = current_app.config["PUSH_RETRY_INTERVALS"]
        delay = intervals[min(retry_count, len(intervals) - 1)]
        return {
            "retry_count": Order.retry_count + 1,
            "sync_reason": problem.reason,
            "sync_params": problem.params,
            "next_attempt_at": now + timedelta(seconds=delay),
        }
    state = OrderState.ABNORMAL if outcome == AttemptOutcome.ABNORMAL else OrderState.UNCONFIRMED
    return {"sync_state": state, "sync_reason": problem.reason, "sync_params": problem.params, "next_attempt_at": None}


def _record(token: str, outcomes: list[Outcome], summary: PushSummary) -> None:
    """Write the attempts and the orders' new states, a few statements for the whole batch: orders with the same
    new state are updated together; an order that changed while it was being pushed stays pending instead."""
    if not outcomes:
        return
    now = utcnow()
    db.session.connection().execute(
        insert(PushAttempt.__table__),
        [
            {
                "merchant_id": o.item.merchant_id,
                "order_id": o.item.order_id,
                "at": now,
                "outcome": o.outcome,
                "reason": o.problem.reason if o.problem else None,
                "params": o.problem.params if o.problem else {},
                "wdt_message": o.problem.wdt_message if o.problem else None,
                "payload_version": o.item.version,
                "payload": redacted(o.item.trade) if o.item.trade is not None else {},
            }
            for o in outcomes
        ],
    )
    groups: dict[tuple, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        problem_key = json.dumps([o.problem.reason, o.problem.params], sort_keys=True) if o.problem else ""
        groups[(o.outcome, problem_key, o.trade_accepted, o.item.retry_count)].append(o)
    applied: set[int] = set()
    for (outcome, _, trade_accepted, retry_count), members in groups.items():
        values = {
            "push_attempts": Order.push_attempts + 1,
            "last_attempt_at": now,
            **_state_values(outcome, members[0].problem, retry_count, now),
        }
        if trade_accepted:
            values["pushed_version"] = Order.snapshot_version  # the version that was claimed, as the WHERE ensures
        claimed_as_sent = tuple_(Order.id, Order.snapshot_version).in_(
            [(o.item.order_id, o.item.version) for o in members]
        )
        applied.update(
            db.session.scalars(
                update(Order)
                .where(claimed_as_sent, Order.claim_token == token)
                .values(**values)
                .returning(Order.id)
                .execution_options(synchronize_session=False)
            )
        )
    changed = [o for o in outcomes if o.item.order_id not in applied]
    for o in changed:  # a newer snapshot arrived meanwhile: it stays pending and is queued again
        db.session.execute(
            update(Order)
            .where(Order.id == o.item.order_id, Order.claim_token == token)
            .values(
                push_attempts=Order.push_attempts + 1,
                last_attempt_at=now,
                sync_state=OrderState.PENDING,
                enqueued_at=None,
                **({"pushed_version": o.item.version} if o.trade_accepted else {}),
            )
            .execution_options(synchronize_session=False)
        )
        summary.changed.append(o.item.order_id)
    refunds_taken = [taken for o in outcomes for taken in o.refunds_taken]
    if refunds_taken:  # WDT holds them, changed order or not. Lines after orders: the order ingest locks them in
        db.session.execute(
            update(OrderLine.__table__)
            .where(OrderLine.__table__.c.id == bindparam("line_id"))
            .values(refund_pushed_status=bindparam("status")),
            refunds_taken,
        )
    _tell_the_mall([o for o in outcomes if o.item.order_id in applied], summary)


def _tell_the_mall(outcomes: list[Outcome], summary: PushSummary) -> None:
    """Count the outcomes and queue order.abnormal events for the orders that became abnormal."""
    deliveries = []
    for o in outcomes:
        count_push(o.outcome, o.problem.reason if o.problem else None)
        getattr(summary, str(o.outcome)).append(o.item.order_id)
        if o.outcome == AttemptOutcome.ABNORMAL:
            assert o.problem is not None
            deliveries.append(
                webhooks.queue_event(
                    o.item.merchant_id,
                    webhooks.EVENT_ABNORMAL,
                    {
                        "order_no": o.item.order_no,
                        "reason": o.problem.reason,
                        "reason_params": o.problem.params,
                        "message": render(o.problem.reason, o.problem.params),
                    },
                    order_id=o.item.order_id,
                )
            )
    if deliveries:
        db.session.flush()
        summary.deliveries += [delivery.id for delivery in deliveries]


def _release(token: str) -> None:
    db.session.execute(
        update(Order)
        .where(Order.claim_token == token)
        .values(claim_token=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()  # protocol: released claims are visible at once
