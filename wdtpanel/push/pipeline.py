"""Push orders to WDT: schedule, claim, check, push in batches, record each outcome.

The database is the source of truth: an order to push is `pending` until a push ends as `pushed` or
`abnormal`. Workers claim orders with a lease so two never push the same order at once; the sweeper
re-schedules pending orders whose job was lost."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Order, PushAttempt, WdtConfig
from ..columns import utcnow
from ..wdt import BATCH_LIMITS, WdtError
from .. import webhooks
from ..merchant_config import client_for, load_config
from ..reasons import render
from ..states import AttemptOutcome, OrderState
from .trade_mapping import redacted, refunds_to_push, to_raw_trade

log = logging.getLogger(__name__)

CLAIM_SECONDS = 300  # a worker's hold on an order while pushing it
SWEEP_GRACE = timedelta(minutes=5)  # a queued order untouched this long lost its job


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
    """Pending orders no job holds: never queued (or re-pushed since), or — for the sweeper — queued so long
    ago that their job must be lost."""
    query = select(Order.id).where(
        Order.merchant_id == merchant_id, Order.sync_state == OrderState.PENDING,
        or_(Order.claimed_until.is_(None), Order.claimed_until < now),
        or_(Order.next_attempt_at.is_(None), Order.next_attempt_at <= now),
    )
    if order_ids is not None:
        query = query.where(Order.id.in_(order_ids))
    if only_lost:
        last_touch = func.coalesce(Order.next_attempt_at, Order.enqueued_at)
        query = query.where(or_(Order.enqueued_at.is_(None), last_touch < now - SWEEP_GRACE))
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


def lost_pending_merchants() -> list[int]:
    """Merchants (integration on) with pending orders that may need a new job."""
    query = select(Order.merchant_id).join(WdtConfig, WdtConfig.merchant_id == Order.merchant_id).where(
        WdtConfig.enabled.is_(True), Order.sync_state == OrderState.PENDING).distinct()
    return list(db.session.scalars(query))


# --- pushing -----------------------------------------------------------------------------------


def claim(merchant_id: int, order_ids: list[int]) -> tuple[str, list[Order]]:
    """Take the orders that are still pending and not held by another worker."""
    token, now = str(uuid.uuid4()), utcnow()
    db.session.execute(
        update(Order)
        .where(Order.merchant_id == merchant_id, Order.id.in_(order_ids), Order.sync_state == OrderState.PENDING,
               or_(Order.claimed_until.is_(None), Order.claimed_until < now))
        .values(claim_token=token, claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    orders = db.session.scalars(
        select(Order).where(Order.claim_token == token).options(selectinload(Order.lines)).order_by(Order.id)
    ).all()
    return token, list(orders)


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
    try:
        _push_claimed(config, token, orders, summary, last_try)
        db.session.commit()  # every outcome of the batch in one transaction
    except PushDeferred:
        db.session.commit()  # the tries are recorded before RQ retries the job
        raise
    finally:
        db.session.rollback()  # after any other error the orders stay pending and are pushed again
        _release(token)
    return summary


def _push_claimed(config: WdtConfig, token: str, orders: list[Order], summary: PushSummary, last_try: bool) -> None:
    ready, trades = [], {}
    for order in orders:
        problem = check_order(order, config)
        if problem:
            _record(order, token, AttemptOutcome.ABNORMAL, problem, None, summary)
        else:
            ready.append(order)
            trades[order.id] = to_raw_trade(order)
    if not ready:
        return
    client = client_for(config)
    try:
        results = client.push_trades(config.shop_no, [trades[order.id] for order in ready], strict=True)
    except WdtError as error:
        problem = problem_from(error)
        retry = error.transient and not last_try
        for order in ready:
            _record(order, token, AttemptOutcome.RETRY if retry else AttemptOutcome.ABNORMAL, problem, trades[order.id], summary)
        if retry:
            raise PushDeferred(error, summary.deliveries) from error
        return
    for order in ready:
        error = results.get(order.order_no)
        problem = problem_from(error) if error is not None else _push_refunds(client, config, order)
        _record(order, token, AttemptOutcome.PUSHED if problem is None else AttemptOutcome.ABNORMAL, problem, trades[order.id], summary,
                trade_accepted=error is None)


def _push_refunds(client, config: WdtConfig, order: Order) -> Problem | None:
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


def _record(order: Order, token: str, outcome: str, problem: Problem | None, trade, summary: PushSummary,
            trade_accepted: bool = False) -> None:
    """Write the attempt and the order's new state, unless the order changed while it was being pushed."""
    now = utcnow()
    db.session.add(PushAttempt(
        merchant_id=order.merchant_id, order_id=order.id, at=now, outcome=outcome,
        reason=problem.reason if problem else None, params=problem.params if problem else {},
        wdt_message=problem.wdt_message if problem else None, payload_version=order.snapshot_version,
        payload=redacted(trade) if trade is not None else {},
    ))
    values = {"push_attempts": Order.push_attempts + 1, "last_attempt_at": now}
    if trade_accepted:  # WDT holds this version now, even if a refund of it was refused
        values.update(pushed_version=order.snapshot_version)
    if outcome == AttemptOutcome.PUSHED:
        values.update(sync_state=OrderState.PUSHED, pushed_at=now, sync_reason=None, sync_params={},
                      next_attempt_at=None)
    elif outcome == AttemptOutcome.ABNORMAL:
        values.update(sync_state=OrderState.ABNORMAL, sync_reason=problem.reason, sync_params=problem.params,
                      next_attempt_at=None)
    else:
        intervals = current_app.config["PUSH_RETRY_INTERVALS"]
        delay = intervals[min(order.retry_count, len(intervals) - 1)]
        values.update(retry_count=Order.retry_count + 1, sync_reason=problem.reason, sync_params=problem.params,
                      next_attempt_at=now + timedelta(seconds=delay))
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.claim_token == token, Order.snapshot_version == order.snapshot_version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # a newer snapshot arrived meanwhile: it stays pending and is queued again
        db.session.execute(update(Order).where(
            Order.id == order.id, Order.claim_token == token, Order.snapshot_version != order.snapshot_version
        ).values(push_attempts=Order.push_attempts + 1, last_attempt_at=now, sync_state=OrderState.PENDING,
                 enqueued_at=None,
                 **({"pushed_version": order.snapshot_version} if trade_accepted else {}))
          .execution_options(synchronize_session=False))
        outcome = "changed"
    elif outcome == AttemptOutcome.ABNORMAL:
        delivery = webhooks.queue_event(order.merchant_id, webhooks.EVENT_ABNORMAL, {
            "order_no": order.order_no, "reason": problem.reason, "reason_params": problem.params,
            "message": render(problem.reason, problem.params)}, order_id=order.id)
        db.session.flush()
        summary.deliveries.append(delivery.id)
    getattr(summary, outcome).append(order.id)


def _release(token: str) -> None:
    db.session.execute(update(Order).where(Order.claim_token == token).values(claim_token=None, claimed_until=None)
                       .execution_options(synchronize_session=False))
    db.session.commit()
