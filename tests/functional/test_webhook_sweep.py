"""The webhook sweeper and the job queue over time: nothing crowds out due events, nothing fills Redis."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.helpers import order_payload
from wdtpanel.columns import utcnow
from wdtpanel.extensions import db, job_queue
from wdtpanel.models import Merchant, WebhookDelivery
from wdtpanel.webhooks import due_delivery_ids, release_waiting


def events(merchant_id: int, count: int, due_minutes_ago: int) -> list[int]:
    created = utcnow() - timedelta(hours=2)
    rows = [
        WebhookDelivery(
            merchant_id=merchant_id,
            event="order.abnormal",
            payload=order_payload(),
            created_at=created,
            next_attempt_at=utcnow() - timedelta(minutes=due_minutes_ago),
        )
        for _ in range(count)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def test_events_failing_for_hours_do_not_crowd_out_newly_due_ones(make_merchant):
    merchant, _ = make_merchant("shop-a")
    db.session.get(Merchant, merchant.id).webhook_url = "https://mall.example/hook"
    stuck = events(merchant.id, 5, due_minutes_ago=1)  # tried again and again, due a minute ago
    waiting = events(merchant.id, 2, due_minutes_ago=90)  # due long ago, never swept yet
    assert due_delivery_ids(limit=2) == waiting
    assert set(due_delivery_ids(limit=10)) == set(stuck + waiting)


def test_events_of_a_merchant_without_a_callback_url_are_not_swept(make_merchant):
    with_url, _ = make_merchant("shop-a")
    without_url, _ = make_merchant("shop-b")
    db.session.get(Merchant, with_url.id).webhook_url = "https://mall.example/hook"
    due = events(with_url.id, 1, due_minutes_ago=5)
    events(without_url.id, 3, due_minutes_ago=50)
    assert due_delivery_ids() == due
    assert db.session.scalar(select(WebhookDelivery.state).where(WebhookDelivery.merchant_id == without_url.id))


def test_a_failed_job_is_kept_a_day_not_a_year(app):
    job = job_queue().enqueue("wdtpanel.jobs.sweep_webhooks")
    assert job.failure_ttl == 86_400


def test_saving_a_url_releases_only_the_events_that_waited_for_one(make_merchant):
    merchant, _ = make_merchant("shop-a")
    no_url, mall_down, in_flight = events(merchant.id, 3, due_minutes_ago=-60)
    rows = {row.id: row for row in db.session.scalars(select(WebhookDelivery))}
    rows[no_url].last_error = "no callback URL configured"
    rows[mall_down].last_error = "HTTP 503"  # the mall's own backoff is kept
    rows[in_flight].last_error = "no callback URL configured"
    rows[in_flight].next_attempt_at = utcnow() + timedelta(seconds=61)  # a send under way (its 60 s lease)
    db.session.commit()
    assert release_waiting(merchant.id) == [no_url]


def test_cron_jobs_that_fail_are_kept_a_day_too():
    from rq import cron

    import wdtpanel.cron  # noqa: F401  (registers the jobs)

    registered = cron._job_data_registry  # rq keeps what `rq cron` will queue here
    assert registered and {entry["failure_ttl"] for entry in registered} == {86_400}
