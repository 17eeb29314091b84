"""Push orders to WDT: schedule, claim, check, push in batches, record each outcome.

The database is the source of truth: an order to push is `pending` until a push ends as `pushed`, `abnormal` or
`unconfirmed`. Workers claim orders with a short lease, renewed before every WDT call while the push runs, so two
workers never push the same order at once and a dead worker's orders are taken up again within two minutes; the
sweeper re-schedules pending orders whose job was lost."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import selectinload

from .. import webhooks
from ..columns import utcnow
from ..extensions import db
from ..merchant_config import client_for, heartbeat_while_calling, load_config, pacer_for
from ..metrics import count_push
from ..models import Order, PushAttempt, WdtConfig
from ..reasons import render
from ..states import AttemptOutcome, OrderState
from ..wdt import BATCH_LIMITS, RawTrade, WdtClient, WdtError
from ..wdt.errors import WdtUnsupported
from .trade_mapping import encodable, redacted, refunds_to_push, to_raw_trade

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=50)  # renewed before a pacing wait (≤ 45 s) and before each call (connect 5 s + read 30 s)
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


def due_pending_ids(merchant_id: int, now: datetime, order_ids: list[int] | None = None,
                    only_lost: bool = False) -> list[int]:
    """Pending orders no job holds: never queued (or re-pushed since), or — for the sweeper — whose job must be
    lost: queued long ago and never claimed, or claimed by a worker whose lease ran out."""
    query = select(Order.id).where(
        Order.merchant_id == merchant_id, Order.sync_state == OrderState.PENDING,
        or_(Order.claimed_until.is_(None), Order.claimed_until < now),
        or_(Order.next_attempt_at.is_(None), Order.next_attempt_at <= now),
    )
    if order_ids is not None:
        query = query.where(Order.id.in_(order_ids))
    if only_lost:
        last_touch = func.coalesce(Order.next_attempt_at, Order.enqueued_at)
        query = query.where(or_(Order.enqueued_at.is_(None), last_touch < now - LOST_AFTER,
                                and_(Order.claim_token.is_not(None), Order.claimed_until < now)))
    else:
        query = query.where(Order.enqueued_at.is_(None))
    return list(db.session.scalars(query.order_by(Order.id)))


def plan_batches(merchant_id: int, order_ids: list[int] | None = None, *, only_lost: bool = False,
                 size: int | None = None) -> list[list[int]]:
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
    return [ids[i:i + step] for i in range(0, len(ids), step)]


def recheck_unconfirmed(now: datetime) -> int:
    """Unconfirmed orders go back to pending after a while: the next push settles whether WDT has them."""
    return db.session.execute(
        update(Order).where(Order.sync_state == OrderState.UNCONFIRMED, Order.last_attempt_at < now - timedelta(
            seconds=current_app.config["UNCONFIRMED_RECHECK_SECONDS"]))
        .values(sync_state=OrderState.PENDING, retry_count=0, next_attempt_at=None, enqueued_at=None)
        .execution_options(synchronize_session=False)).rowcount


def lost_pending_merchants() -> list[int]:
    """Merchants (integration on) with pending orders that may need a new job."""
    query = select(Order.merchant_id).join(WdtConfig, WdtConfig.merchant_id == Order.merchant_id).where(
        WdtConfig.enabled.is_(True), Order.sync_state == OrderState.PENDING).distinct()
    return list(db.session.scalars(query))


# --- pushing -----------------------------------------------------------------------------------


def claim(merchant_id: int, order_ids: list[int]) -> tuple[str, list[Order]]:
    """Take the orders that are still pending and not held by another worker. Commits: the claim is the protocol."""
    token, now = str(uuid.uuid4()), utcnow()
    db.session.execute(
        update(Order)
        .where(Order.merchant_id == merchant_id, Order.id.in_(order_ids), Order.sync_state == OrderState.PENDING,
               or_(Order.claimed_until.is_(None), Order.claimed_until < now))
        .values(claim_token=token, claimed_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    orders = db.session.scalars(
        select(Order).where(Order.claim_token == token).options(selectinload(Order.lines)).order_by(Order.id)
    ).all()
    return token, list(orders)


def _renew(token: str) -> None:
    """Extend the lease, on a connection of its own: the push's session holds no write while WDT is called."""
    with db.engine.begin() as connection:
        connection.execute(update(Order).where(Order.claim_token == token).values(claimed_until=utcnow() + LEASE))


def check_order(order: Order, config: WdtConfig) -> Problem | None:
    """What stops an order from being pushed before WDT is asked."""
    missing = [name for name in ("sid", "appkey", "appsecret_encrypted", "shop_no") if not getattr(config, name)]
    if missing:
        return Problem("config_incomplete", {"missing": ", ".join(missing)})
    for number, line in enumerate(order.lines, start=1):
        if not line.merchant_code:
            return Problem("missing_merchant_code", {"line": number, "goods": line.goods_name,
                                                     "spec": line.spec_name or line.mall_spec_id or "-"})
    return None


def push_batch(merchant_id: int, order_ids: list[int], *, last_try: bool = True) -> PushSummary:
    """Push the given orders in one WDT batch (the client splits above WDT's limit)."""
    summary = PushSummary()
    config = load_config(merchant_id)
    if config is None or not config.enabled:
        return summary
    token, orders = claim(merchant_id, order_ids)
    summary.skipped = sorted(set(order_ids) - {order.id for order in orders})
    claimed = [Claimed(order, order.snapshot_version, order.retry_count) for order in orders]
    try:
        with heartbeat_while_calling(lambda: _renew(token)):
            _push_claimed(config, token, claimed, summary, last_try)
        db.session.commit()  # every outcome of the batch in one transaction
    except PushDeferred:
        db.session.commit()  # the tries are recorded before RQ retries the job
        raise
    finally:
        db.session.rollback()  # after any other error the orders stay pending and are pushed again
        _release(token)
    return summary


@dataclass
class Claimed:
    """A claimed order and what it was when claimed (a newer snapshot may arrive while WDT is called)."""

    order: Order
    version: int
    retry_count: int


def _prepare(order: Order, config: WdtConfig) -> tuple[RawTrade | None, Problem | None]:
    """The trade to send, or why this order cannot go. Whatever goes wrong here stays with this one order."""
    try:
        problem = check_order(order, config)
        if problem is not None:
            return None, problem
        trade = to_raw_trade(order)
        encodable(config.edition, trade)
        return trade, None
    except Exception as error:  # noqa: BLE001 — one order's bad data must not hold back the batch
        log.exception("order %s could not be prepared for WDT", order.order_no)
        return None, Problem("internal_error", {"detail": type(error).__name__})


def _push_claimed(config: WdtConfig, token: str, claimed: list[Claimed], summary: PushSummary,
                  last_try: bool) -> None:
    ready, trades = [], {}
    for item in claimed:
        trade, problem = _prepare(item.order, config)
        if problem is not None:
            _record(item, token, AttemptOutcome.ABNORMAL, problem, None, summary)
        else:
            ready.append(item)
            trades[item.order.id] = trade
    db.session.commit()  # no write stays open while WDT is called (the lease is renewed on another connection)
    if not ready:
        return
    client = client_for(config)
    try:
        results = client.push_trades(config.shop_no, [trades[item.order.id] for item in ready], strict=True)
    except WdtError as error:
        if error.code == "rate_limited":
            pacer_for(config).back_off(RATE_LIMIT_BACK_OFF)
        if error.transient and not last_try:
            for item in ready:
                _record(item, token, AttemptOutcome.RETRY, problem_from(error), trades[item.order.id], summary)
            raise PushDeferred(error, summary.deliveries) from error
        if error.code in ANSWER_LOST:
            _settle_lost_answer(client, config, token, ready, trades, error, summary)
        else:
            for item in ready:
                _record(item, token, AttemptOutcome.ABNORMAL, problem_from(error), trades[item.order.id], summary)
        return
    for item in ready:
        error = results.get(item.order.order_no)
        if error is not None:
            _record(item, token, AttemptOutcome.ABNORMAL, problem_from(error), trades[item.order.id], summary)
        else:
            _record_accepted(client, config, token, item, trades[item.order.id], summary)


def _record_accepted(client: WdtClient, config: WdtConfig, token: str, item: Claimed, trade: RawTrade,
                     summary: PushSummary) -> None:
    problem = _push_refunds(client, config, item.order)
    outcome = AttemptOutcome.PUSHED if problem is None else AttemptOutcome.ABNORMAL
    _record(item, token, outcome, problem, trade, summary, trade_accepted=True)


def _settle_lost_answer(client: WdtClient, config: WdtConfig, token: str, claimed: list[Claimed],
                        trades: dict[int, RawTrade], error: WdtError, summary: PushSummary) -> None:
    """The push got no answer: ask WDT which trades it holds before calling any order abnormal. A first push that
    WDT holds is pushed; a trade WDT lacks is abnormal; where WDT cannot be asked (no query in the edition, or the
    query fails too), or holds an older version, the order is unconfirmed and the next push settles it."""
    try:
        held = client.find_raw_trades(config.shop_no, [item.order.order_no for item in claimed])
    except (WdtUnsupported, WdtError):
        held = None
    unconfirmed = Problem("unconfirmed", {"detail": error.code}, error.wdt_message)
    for item in claimed:
        trade, in_wdt = trades[item.order.id], bool(held and held.get(item.order.order_no))
        if held is None or (in_wdt and item.order.pushed_version is not None):
            _record(item, token, AttemptOutcome.UNCONFIRMED, unconfirmed, trade, summary)
        elif in_wdt:
            _record_accepted(client, config, token, item, trade, summary)
        else:
            _record(item, token, AttemptOutcome.ABNORMAL, problem_from(error), trade, summary)


def _push_refunds(client: WdtClient, config: WdtConfig, order: Order) -> Problem | None:
    """After shipment, refunds also go to WDT's refund interface (the trade is in WDT by now)."""
    pending = refunds_to_push(order, utcnow())
    if not pending:
        return None
    try:
        errors = client.push_refunds(config.shop_no, [refund for _, refund in pending])
    except WdtError as error:
        return problem_from(error)
    for line, refund in pending:
        if errors.get(refund.refund_no) is None:
            line.refund_pushed_status = line.refund_status
    failed = "; ".join(f"{no}: {text}" for no, text in errors.items() if text)
    if failed:
        return Problem("refund_rejected", {"detail": failed}, failed)
    return None


def _state_values(item: Claimed, outcome: AttemptOutcome, problem: Problem | None, now: datetime) -> dict:
    if outcome == AttemptOutcome.PUSHED:
        return {"sync_state": OrderState.PUSHED, "pushed_at": now, "sync_reason": None, "sync_params": {},
                "next_attempt_at": None}
    assert problem is not None
    if outcome == AttemptOutcome.RETRY:
        intervals = current_app.config["PUSH_RETRY_INTERVALS"]
        delay = intervals[min(item.retry_count, len(intervals) - 1)]
        return {"retry_count": Order.retry_count + 1, "sync_reason": problem.reason, "sync_params": problem.params,
                "next_attempt_at": now + timedelta(seconds=delay)}
    state = OrderState.ABNORMAL if outcome == AttemptOutcome.ABNORMAL else OrderState.UNCONFIRMED
    return {"sync_state": state, "sync_reason": problem.reason, "sync_params": problem.params, "next_attempt_at": None}


def _record(item: Claimed, token: str, outcome: AttemptOutcome, problem: Problem | None, trade: RawTrade | None,
            summary: PushSummary, trade_accepted: bool = False) -> None:
    """Write the attempt and the order's new state, unless the order changed while it was being pushed."""
    order, version, now = item.order, item.version, utcnow()
    db.session.add(PushAttempt(
        merchant_id=order.merchant_id, order_id=order.id, at=now, outcome=outcome,
        reason=problem.reason if problem else None, params=problem.params if problem else {},
        wdt_message=problem.wdt_message if problem else None, payload_version=version,
        payload=redacted(trade) if trade is not None else {},
    ))
    values = {"push_attempts": Order.push_attempts + 1, "last_attempt_at": now,
              **_state_values(item, outcome, problem, now)}
    if trade_accepted:  # WDT holds this version now, even if a refund of it was refused
        values.update(pushed_version=version)
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.claim_token == token, Order.snapshot_version == version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # a newer snapshot arrived meanwhile: it stays pending and is queued again
        db.session.execute(update(Order).where(
            Order.id == order.id, Order.claim_token == token, Order.snapshot_version != version
        ).values(push_attempts=Order.push_attempts + 1, last_attempt_at=now, sync_state=OrderState.PENDING,
                 enqueued_at=None, **({"pushed_version": version} if trade_accepted else {}))
          .execution_options(synchronize_session=False))
        summary.changed.append(order.id)
        return
    count_push(outcome, problem.reason if problem else None)
    if outcome == AttemptOutcome.ABNORMAL:
        assert problem is not None
        delivery = webhooks.queue_event(order.merchant_id, webhooks.EVENT_ABNORMAL, {
            "order_no": order.order_no, "reason": problem.reason, "reason_params": problem.params,
            "message": render(problem.reason, problem.params)}, order_id=order.id)
        db.session.flush()
        summary.deliveries.append(delivery.id)
    getattr(summary, str(outcome)).append(order.id)


def _release(token: str) -> None:
    db.session.execute(update(Order).where(Order.claim_token == token).values(claim_token=None, claimed_until=None)
                       .execution_options(synchronize_session=False))
    db.session.commit()
