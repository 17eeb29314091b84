"""全部订单: any order of the merchant, whatever its state, found by (part of) its order no. or a merchant code,
with everything that happened to it: push attempts, shipments, webhooks to the mall. Also the search and the
keyset pages the order lists share."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select, tuple_, union

from ..extensions import db
from ..models import Order, OrderLine, PushAttempt, Shipment, WebhookDelivery
from ..states import OrderState, ShippingState
from .orders import MAX_ROW_ID, order_by_id

PAGE_SIZE = 50
# What a row shows (display_state), and the filter choices of 全部订单 (plus "shipped").
DISPLAY_STATES = ("queued", "pushing", "retry", "pushed", "unconfirmed", "abnormal", "historical")


def display_state(order: Order, now: datetime) -> str:
    """queued | pushing | retry (waiting for its next try) | pushed | unconfirmed | abnormal | historical."""
    if order.sync_state == OrderState.PENDING:
        if order.claimed_until and order.claimed_until > now:
            return "pushing"
        return "retry" if order.next_attempt_at and order.next_attempt_at > now else "queued"
    return str(order.sync_state)


def search_condition(merchant_id: int, q: str):
    """Orders whose order no. or one of whose merchant codes contains `q`, in any letter case. One IN over the union
    of both matches, so PostgreSQL finds the few ids through its trigram index on each lower() expression."""
    needle = q.lower()
    by_number = select(Order.id).where(
        Order.merchant_id == merchant_id, func.lower(Order.order_no).contains(needle, autoescape=True)
    )
    by_code = select(OrderLine.order_id).where(
        OrderLine.merchant_id == merchant_id, func.lower(OrderLine.merchant_code).contains(needle, autoescape=True)
    )
    return Order.id.in_(union(by_number, by_code))


# --- keyset pages, newest first on (ordered_at, id) ----------------------------------------------------------


@dataclass
class Page:
    orders: list[Order]
    next_cursor: str | None  # the page after this one
    prev_cursor: str | None  # the page before this one (None on the first page)


def encode_cursor(order: Order) -> str:
    raw = f"{order.ordered_at.isoformat()}|{order.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    """The position a cursor names; None for anything that is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, order_id = raw.split("|")
        position = datetime.fromisoformat(moment), int(order_id)
    except (ValueError, UnicodeDecodeError):
        return None
    if position[0].tzinfo is None or not 0 < position[1] <= MAX_ROW_ID:
        return None
    return position


def keyset_page(query: Select, cursor: str = "", before: str = "", size: int = PAGE_SIZE) -> Page:
    """One page of `query` (a select of Order): after `cursor`, or before `before`; as fast on page 1,000 as on 1."""
    key = tuple_(Order.ordered_at, Order.id)
    backwards = decode_cursor(before) if before else None
    if backwards:
        rows = db.session.scalars(
            query.where(key > tuple_(*backwards)).order_by(Order.ordered_at.asc(), Order.id.asc()).limit(size + 1)
        ).all()
        more_before = len(rows) > size
        rows = list(reversed(rows[:size]))
        return Page(
            rows, encode_cursor(rows[-1]) if rows else None, encode_cursor(rows[0]) if rows and more_before else None
        )
    position = decode_cursor(cursor) if cursor else None
    if position:
        query = query.where(key < tuple_(*position))
    rows = db.session.scalars(query.order_by(Order.ordered_at.desc(), Order.id.desc()).limit(size + 1)).all()
    more = len(rows) > size
    rows = list(rows[:size])
    return Page(rows, encode_cursor(rows[-1]) if more else None, encode_cursor(rows[0]) if position and rows else None)


# --- 全部订单 --------------------------------------------------------------------------------------------------


@dataclass
class LookupFilters:
    q: str = ""
    state: str = ""  # one of DISPLAY_STATES, or "shipped"
    cursor: str = ""
    before: str = ""


def state_condition(state: str, now: datetime):
    """The SQL condition for a display state (or "shipped")."""
    pending = Order.sync_state == OrderState.PENDING
    free = or_(Order.claimed_until.is_(None), Order.claimed_until <= now)
    due = or_(Order.next_attempt_at.is_(None), Order.next_attempt_at <= now)
    return {
        "queued": and_(pending, free, due),
        "pushing": and_(pending, Order.claimed_until > now),
        "retry": and_(pending, free, Order.next_attempt_at > now),
        "shipped": Order.shipping_state != ShippingState.NONE,
    }.get(state, Order.sync_state == state)


def find_orders(merchant_id: int, filters: LookupFilters, now: datetime) -> Page:
    query = select(Order).where(Order.merchant_id == merchant_id)
    if filters.q:
        query = query.where(search_condition(merchant_id, filters.q))
    if filters.state in DISPLAY_STATES or filters.state == "shipped":
        query = query.where(state_condition(filters.state, now))
    return keyset_page(query, filters.cursor, filters.before)


@dataclass
class OrderRecord:
    """An order with everything that happened to it."""

    order: Order
    attempts: list[PushAttempt]
    shipments: list[Shipment]
    webhooks: list[WebhookDelivery]


def attempts_of(order: Order) -> list[PushAttempt]:
    return list(
        db.session.scalars(
            select(PushAttempt)
            .where(PushAttempt.merchant_id == order.merchant_id, PushAttempt.order_id == order.id)
            .order_by(PushAttempt.id.desc())
        )
    )


def order_record(merchant_id: int, order_id: int) -> OrderRecord | None:
    order = order_by_id(merchant_id, order_id)
    if order is None:
        return None
    shipments = db.session.scalars(
        select(Shipment).where(Shipment.merchant_id == merchant_id, Shipment.order_id == order.id).order_by(Shipment.id)
    )
    webhooks = db.session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.merchant_id == merchant_id, WebhookDelivery.order_id == order.id)
        .order_by(WebhookDelivery.id)
    )
    return OrderRecord(order, attempts_of(order), list(shipments), list(webhooks))
