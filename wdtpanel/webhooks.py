"""Telling the mall: signed webhooks from an outbox, retried with growing delay, never dropped."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from typing import cast

import requests
from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.engine import CursorResult

from .bulk import insert_rows
from .columns import utcnow
from .extensions import count_rows, db
from .models import Merchant, WebhookDelivery
from .outbound import UnsafeAddress, pin_addresses
from .security import decrypt_secret, hmac_signature
from .states import WebhookState

log = logging.getLogger(__name__)

EVENT_SHIPMENT = "shipment.created"
EVENT_ABNORMAL = "order.abnormal"
EVENT_STOCK = "stock.changed"  # one event carries a round of changes: data.changes[]
SEND_LEASE = timedelta(seconds=60)  # longer than one POST with its timeouts
RETRY_SLACK = timedelta(seconds=5)  # an RQ retry may fire a moment before the recorded next try
UNSENDABLE_WAIT = timedelta(hours=1)  # no usable callback URL: tried again hourly, and at once when one is saved
CLOCK_MARGIN = timedelta(minutes=5)
NO_URL, NOT_PUBLIC = "no callback URL configured", "callback URL is not a public address"


class WebhookFailed(Exception):
    """The mall did not take the event; the job raises this so RQ tries again later."""


def queue_event(merchant_id: int, event: str, data: dict, order_id: int | None = None) -> WebhookDelivery:
    """Add an event to the outbox in the caller's transaction; enqueue delivery after commit."""
    delivery = WebhookDelivery(
        merchant_id=merchant_id, order_id=order_id, event=event, payload=data, state=WebhookState.PENDING
    )
    db.session.add(delivery)
    return delivery


def queue_events(merchant_id: int, event: str, items: list[tuple[int | None, dict]]) -> list[int]:
    """Add many events (order id, data) to the outbox in one statement, in the caller's transaction; their ids."""
    if not items:
        return []
    table = WebhookDelivery.__table__
    rows = [
        {
            "merchant_id": merchant_id,
            "order_id": order_id,
            "event": event,
            "payload": data,
            "state": WebhookState.PENDING,
            "attempts": 0,
        }
        for order_id, data in items
    ]
    return insert_rows(table, rows, table.c.id)


def signed_request(merchant: Merchant, delivery: WebhookDelivery) -> tuple[bytes, dict]:
    body = json.dumps(
        {
            "id": delivery.id,
            "event": delivery.event,
            "merchant": merchant.code,
            "created_at": delivery.created_at.isoformat(),
            "data": delivery.payload,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    if merchant.api_secret_encrypted is None:
        raise ValueError(f"merchant {merchant.code!r} has no API secret to sign webhooks with")
    timestamp = str(int(time.time()))
    secret = decrypt_secret(merchant.api_secret_encrypted)
    return body, {
        "Content-Type": "application/json",
        "X-Wdtpanel-Event": delivery.event,
        "X-Wdtpanel-Delivery": str(delivery.id),
        "X-Wdtpanel-Timestamp": timestamp,
        "X-Wdtpanel-Signature": hmac_signature(secret, timestamp, body),
    }


def deliver(delivery_id: int) -> bool:
    """POST one event to the merchant's callback URL. True when delivered (or already was); WebhookFailed when the
    mall did not take it (RQ retries); False when it cannot be sent yet (no usable callback URL): it waits, retried
    hourly by the sweeper and at once when a URL is saved."""
    now = utcnow()
    result = db.session.execute(  # one sender at a time: a second job for the same event finds it held
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.state == WebhookState.PENDING,
            or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now + RETRY_SLACK),
        )
        .values(next_attempt_at=now + SEND_LEASE)
        .execution_options(synchronize_session=False)
    )
    claimed = cast(CursorResult, result).rowcount
    db.session.commit()  # protocol: the claim is visible before the mall is called
    if not claimed:
        return True  # delivered already, or another job is sending it / will retry it
    delivery = db.session.get_one(WebhookDelivery, delivery_id)
    merchant = db.session.get_one(Merchant, delivery.merchant_id)
    error = unsendable = None
    if not merchant.webhook_url:
        error = unsendable = NO_URL
    else:
        body, headers = signed_request(merchant, delivery)
        try:
            with pin_addresses(requests.Session(), current_app.config["ALLOW_PRIVATE_URLS"]) as http:
                response = http.post(
                    merchant.webhook_url,
                    data=body,
                    headers=headers,
                    timeout=current_app.config["WEBHOOK_TIMEOUTS"],
                    allow_redirects=False,
                )
            if 200 <= response.status_code < 300:
                delivery.state, delivery.delivered_at = WebhookState.DELIVERED, utcnow()
            else:
                error = f"HTTP {response.status_code}"
        except UnsafeAddress:  # checked by the pinned session as it connects
            error = unsendable = NOT_PUBLIC
        except requests.RequestException as exc:
            error = type(exc).__name__
    delivery.attempts += 1
    if error:
        intervals = current_app.config["WEBHOOK_RETRY_INTERVALS"]
        wait = (
            UNSENDABLE_WAIT
            if unsendable
            else timedelta(seconds=intervals[min(delivery.attempts - 1, len(intervals) - 1)])
        )
        delivery.last_error = error
        delivery.next_attempt_at = utcnow() + wait
    db.session.commit()  # protocol: the attempt is kept whatever RQ does next
    if unsendable:
        log.warning("webhook %s of merchant %s waits: %s", delivery_id, merchant.code, unsendable)
        return False
    if error:
        raise WebhookFailed(error)
    return True


def release_waiting(merchant_id: int) -> list[int]:
    """The merchant's events that wait for a usable callback URL, made due now (a new URL was just saved); not one
    whose send is under way (its lease is far shorter than the wait, whatever the hosts' clocks). Flushes."""
    return list(
        db.session.scalars(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.merchant_id == merchant_id,
                WebhookDelivery.state == WebhookState.PENDING,
                WebhookDelivery.last_error.in_((NO_URL, NOT_PUBLIC)),
                WebhookDelivery.next_attempt_at > utcnow() + SEND_LEASE + CLOCK_MARGIN,
            )
            .values(next_attempt_at=None)
            .returning(WebhookDelivery.id)
            .execution_options(synchronize_session=False)
        )
    )


def due_delivery_ids(limit: int = 1000) -> list[int]:
    """Pending events whose next try is due (the sweeper re-queues these after RQ's retries run out), longest due
    first, so events failing for ever cannot crowd out the others; not those of merchants without a callback URL
    (saving one sends them)."""
    now = utcnow()
    query = (
        select(WebhookDelivery.id)
        .join(Merchant, Merchant.id == WebhookDelivery.merchant_id)
        .where(
            WebhookDelivery.state == WebhookState.PENDING,
            or_(
                WebhookDelivery.next_attempt_at.is_(None),
                WebhookDelivery.next_attempt_at <= now - timedelta(seconds=30),
            ),
            WebhookDelivery.created_at <= now - timedelta(seconds=30),
            Merchant.webhook_url.is_not(None),
            Merchant.webhook_url != "",
        )
        .order_by(WebhookDelivery.next_attempt_at.asc().nulls_first(), WebhookDelivery.id)
    )
    return list(db.session.scalars(query.limit(limit)))


def pending_count(merchant_id: int) -> int:
    return count_rows(
        WebhookDelivery, WebhookDelivery.merchant_id == merchant_id, WebhookDelivery.state == WebhookState.PENDING
    )
