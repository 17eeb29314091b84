"""RQ entry points: thin wrappers that open an app context and call the sync services.
Jobs get ids, never ORM objects; they are enqueued only after the database commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from rq import Retry, get_current_job

from . import webhooks
from .columns import utcnow
from .extensions import db, job_queue, redis_connection
from .ingest.replay import purge_expired
from .pulls import shipping, stock
from .pulls.runner import PullSource, retry_issue, run_pull
from .push import goods as goods_push
from .push import pipeline
from .states import PullKind

log = logging.getLogger(__name__)
PULL_SOURCES: dict[PullKind, PullSource] = {PullKind.SHIPPING: shipping.SHIPPING, PullKind.STOCK: stock.STOCK}
DISPATCH_FLAG_SECONDS = 60  # a lost dispatcher blocks new ones at most this long (the sweeper covers the gap)
_worker_app = None


def preload_app():
    """One app per worker process (made at start by AppWorker)."""
    global _worker_app
    if _worker_app is None:
        from . import create_app

        _worker_app = create_app()
    return _worker_app


@contextmanager
def app_context():
    """The current app when there is one (tests, web); else the worker's."""
    if has_app_context():
        yield current_app
        return
    with preload_app().app_context():
        yield current_app


def _is_last_try() -> bool:
    job = get_current_job()
    return job is None or not job.retries_left


# --- enqueueing (called after commit, in the web process or a job) -------------------------------


def leave_to_sweeper_if_down(enqueue: Callable[[], object], what: str) -> bool:
    """Queue work now; with Redis down the work waits in the database and the sweeper queues it. True if queued."""
    try:
        enqueue()
        return True
    except RedisError:
        log.warning("could not queue %s now (Redis unavailable); the sweeper will", what)
        return False


def enqueue_pushes(merchant_id: int, order_ids: list[int] | None = None, *, only_lost: bool = False) -> int:
    """Queue push jobs for the merchant's due pending orders (or the given ones); returns orders queued."""
    batches = pipeline.plan_batches(
        merchant_id, order_ids, only_lost=only_lost, size=current_app.config.get("WDT_PUSH_BATCH_SIZE")
    )
    db.session.commit()
    intervals = current_app.config["PUSH_RETRY_INTERVALS"]
    for batch in batches:
        job_queue().enqueue(
            push_orders,
            merchant_id,
            batch,
            retry=Retry(max=len(intervals), interval=intervals),
            description=f"push {len(batch)} orders of merchant {merchant_id}",
        )
    return sum(len(batch) for batch in batches)


# --- jobs ----------------------------------------------------------------------------------------


def _enqueue_once(flag: str, job: Callable[[int], object], merchant_id: int) -> None:
    """Queue `job` for the merchant unless one is waiting in the queue already (it clears the flag as it starts, so
    work arriving while it waits is taken by it, and work arriving while it runs gets a new job)."""
    if redis_connection().set(f"wdtpanel:{flag}:{merchant_id}", 1, nx=True, ex=DISPATCH_FLAG_SECONDS):
        job_queue().enqueue(job, merchant_id)


def _started(flag: str, merchant_id: int) -> None:
    redis_connection().delete(f"wdtpanel:{flag}:{merchant_id}")


def request_dispatch(merchant_id: int) -> None:
    """New pending orders: queue one dispatcher per merchant. Orders arriving while it waits in the queue
    are taken by it too, so under load they share WDT calls (as many per call as the edition allows)."""
    _enqueue_once("dispatch", dispatch_pushes, merchant_id)


def dispatch_pushes(merchant_id: int) -> int:
    """Split the merchant's unqueued pending orders into push jobs."""
    with app_context():
        _started("dispatch", merchant_id)
        return enqueue_pushes(merchant_id)


def request_goods_push(merchant_id: int) -> None:
    """Specs became pending: queue the merchant's goods push (one waiting at a time)."""
    _enqueue_once("goods-push", push_goods, merchant_id)


def push_goods(merchant_id: int) -> dict:
    """Push the merchant's pending specs to WDT's platform goods; a transient failure leaves them for the sweeper."""
    with app_context():
        _started("goods-push", merchant_id)
        summary = goods_push.push_pending(merchant_id)
        return {"pushed": summary.pushed, "failed": summary.failed, "error": summary.error, "skipped": summary.skipped}


def sweep_goods_pushes() -> int:
    """rq cron: queue a goods push for every merchant with pending specs (changes while Redis was down, jobs lost,
    pushes WDT could not take for a while)."""
    with app_context():
        merchant_ids = goods_push.merchants_with_pending_specs()
        for merchant_id in merchant_ids:
            request_goods_push(merchant_id)
        return len(merchant_ids)


def push_orders(merchant_id: int, order_ids: list[int]) -> dict:
    """Push a batch of orders; a transient WDT failure raises so RQ retries with growing delay."""
    with app_context():
        try:
            summary = pipeline.push_batch(merchant_id, order_ids, last_try=_is_last_try())
        except pipeline.PushDeferred as deferred:
            enqueue_deliveries(deferred.deliveries)
            raise
        enqueue_deliveries(summary.deliveries)
        if summary.changed:
            request_dispatch(merchant_id)
        return {
            "pushed": len(summary.pushed),
            "abnormal": len(summary.abnormal),
            "unconfirmed": len(summary.unconfirmed),
            "skipped": len(summary.skipped),
            "changed": len(summary.changed),
        }


def sweep_pending() -> int:
    """rq cron: re-queue pending orders whose job was lost (worker killed, Redis flushed)."""
    with app_context():
        pipeline.recheck_unconfirmed(utcnow())
        db.session.commit()
        queued = sum(enqueue_pushes(merchant_id, only_lost=True) for merchant_id in pipeline.lost_pending_merchants())
        if queued:
            log.info("sweeper re-queued %d pending orders", queued)
        return queued


def housekeeping() -> int:
    """rq cron: forget what no longer matters (signatures whose replay window is over). Returns rows removed."""
    with app_context():
        removed = purge_expired(utcnow())
        db.session.commit()
        return removed


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    intervals = current_app.config["WEBHOOK_RETRY_INTERVALS"]
    for delivery_id in delivery_ids:
        job_queue().enqueue(
            deliver_webhook,
            delivery_id,
            retry=Retry(max=len(intervals), interval=intervals),
            description=f"webhook {delivery_id}",
        )


def send_waiting_webhooks(merchant_id: int) -> None:
    """The merchant's callback URL was saved: the events waiting for it are queued now, not at the next sweep."""
    waiting = webhooks.release_waiting(merchant_id)
    db.session.commit()
    leave_to_sweeper_if_down(lambda: enqueue_deliveries(waiting), "webhook deliveries")


def deliver_webhook(delivery_id: int) -> bool:
    """POST one outbox event to the mall; raises while the mall does not answer 2xx, so RQ retries."""
    with app_context():
        return webhooks.deliver(delivery_id)


def pull(kind: str, merchant_id: int) -> dict:
    """Drain one of WDT's queues (shipping, stock) for one merchant; one run per merchant and kind at a time."""
    with app_context():
        summary = run_pull(PULL_SOURCES[PullKind(kind)], merchant_id)
        enqueue_deliveries(summary.deliveries)
        return {
            "records": summary.records,
            "applied": summary.applied,
            "failed": summary.failed,
            "retried": summary.retried,
            "error": summary.error,
            "skipped": summary.skipped,
        }


def retry_pull_issue(kind: str, merchant_id: int, issue_id: int):
    """重新同步 of one kept record, in this process; the mall's events are queued after the commit."""
    summary = retry_issue(PULL_SOURCES[PullKind(kind)], merchant_id, issue_id)
    if summary is not None:
        leave_to_sweeper_if_down(lambda: enqueue_deliveries(summary.deliveries), "webhook deliveries")
    return summary


def enqueue_pulls(merchant_id: int, kinds: tuple[str, ...] = ()) -> None:
    """立即同步: every kind of pull for the merchant (or the kinds named), now."""
    for kind in kinds or PULL_SOURCES:
        job_queue().enqueue(pull, str(kind), merchant_id, description=f"pull {kind} of merchant {merchant_id}")


def pull_all(*kinds: str) -> int:
    """rq cron: the pulls of these kinds (default: every kind) for each merchant with the integration on."""
    with app_context():
        merchant_ids = shipping.enabled_merchant_ids()
        for merchant_id in merchant_ids:
            enqueue_pulls(merchant_id, kinds)
        return len(merchant_ids)


def sweep_webhooks() -> int:
    """rq cron: re-queue outbox events whose tries ran out or whose job was lost."""
    with app_context():
        due = webhooks.due_delivery_ids()
        enqueue_deliveries(due)
        return len(due)
