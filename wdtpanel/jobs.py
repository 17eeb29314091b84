"""RQ entry points: thin wrappers that open an app context and call the sync services.
Jobs get ids, never ORM objects; they are enqueued only after the database commit."""
from __future__ import annotations

import logging
from contextlib import contextmanager

from flask import current_app, has_app_context
from rq import Retry, get_current_job

from redis.exceptions import LockError

from .columns import utcnow
from .extensions import db, job_queue, redis_connection
from . import webhooks
from .pulls import shipping
from .push import pipeline

log = logging.getLogger(__name__)
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


def enqueue_pushes(merchant_id: int, order_ids: list[int] | None = None, *, only_lost: bool = False) -> int:
    """Queue push jobs for the merchant's due pending orders (or the given ones); returns orders queued."""
    batches = pipeline.plan_batches(merchant_id, order_ids, only_lost=only_lost,
                                  size=current_app.config.get("WDT_PUSH_BATCH_SIZE"))
    db.session.commit()
    intervals = current_app.config["PUSH_RETRY_INTERVALS"]
    for batch in batches:
        job_queue().enqueue(push_orders, merchant_id, batch, retry=Retry(max=len(intervals), interval=intervals),
                            description=f"push {len(batch)} orders of merchant {merchant_id}")
    return sum(len(batch) for batch in batches)


# --- jobs ----------------------------------------------------------------------------------------


def request_dispatch(merchant_id: int) -> None:
    """New pending orders: queue one dispatcher per merchant. Orders arriving while it waits in the queue
    are taken by it too, so under load they share WDT calls (as many per call as the edition allows)."""
    if redis_connection().set(f"wdtpanel:dispatch:{merchant_id}", 1, nx=True, ex=DISPATCH_FLAG_SECONDS):
        job_queue().enqueue(dispatch_pushes, merchant_id)


def dispatch_pushes(merchant_id: int) -> int:
    """Split the merchant's unqueued pending orders into push jobs."""
    with app_context():
        redis_connection().delete(f"wdtpanel:dispatch:{merchant_id}")
        return enqueue_pushes(merchant_id)


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
        return {"pushed": len(summary.pushed), "abnormal": len(summary.abnormal),
                "unconfirmed": len(summary.unconfirmed), "skipped": len(summary.skipped),
                "changed": len(summary.changed)}


def sweep_pending() -> int:
    """rq cron: re-queue pending orders whose job was lost (worker killed, Redis flushed)."""
    with app_context():
        pipeline.recheck_unconfirmed(utcnow())
        db.session.commit()
        queued = sum(enqueue_pushes(merchant_id, only_lost=True) for merchant_id in pipeline.lost_pending_merchants())
        if queued:
            log.info("sweeper re-queued %d pending orders", queued)
        return queued


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    intervals = current_app.config["WEBHOOK_RETRY_INTERVALS"]
    for delivery_id in delivery_ids:
        job_queue().enqueue(deliver_webhook, delivery_id, retry=Retry(max=len(intervals), interval=intervals),
                            description=f"webhook {delivery_id}")


def deliver_webhook(delivery_id: int) -> bool:
    """POST one outbox event to the mall; raises while the mall does not answer 2xx, so RQ retries."""
    with app_context():
        return webhooks.deliver(delivery_id)


def pull_shipments(merchant_id: int) -> dict:
    """Drain WDT's logistics-sync queue for one merchant; one pull per merchant at a time (a Redis lock)."""
    with app_context():
        lock = redis_connection().lock(f"wdtpanel:pull:{merchant_id}", timeout=900, blocking=False)
        if not lock.acquire():
            return {"skipped": "another pull of this merchant is running"}
        try:
            summary = shipping.pull(merchant_id)
        finally:
            try:
                lock.release()
            except LockError:  # held past its timeout: another pull may run now, which is safe (acks dedupe)
                log.warning("pull lock of merchant %s expired before release", merchant_id)
        enqueue_deliveries(summary.deliveries)
        return {"records": summary.records, "shipments": summary.shipments, "failed": summary.failed,
                "error": summary.error}


def enqueue_pull(merchant_id: int):
    return job_queue().enqueue(pull_shipments, merchant_id, description=f"pull shipments of merchant {merchant_id}")


def pull_all_shipments() -> int:
    """rq cron: one pull job per merchant with the integration on."""
    with app_context():
        merchant_ids = shipping.enabled_merchant_ids()
        for merchant_id in merchant_ids:
            enqueue_pull(merchant_id)
        return len(merchant_ids)


def sweep_webhooks() -> int:
    """rq cron: re-queue outbox events whose tries ran out or whose job was lost."""
    with app_context():
        due = webhooks.due_delivery_ids()
        enqueue_deliveries(due)
        return len(due)
