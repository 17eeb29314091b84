"""旺店通异常订单: the orders staff look at (failed, unconfirmed, historical), filtered and paged."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, or_, select, tuple_

from ..extensions import db
from ..models import Order, OrderLine, PushAttempt
from ..push.repush import BULK_LIMIT, REPUSHABLE
from ..states import OrderState

LISTED_STATES = (OrderState.ABNORMAL, OrderState.UNCONFIRMED, OrderState.HISTORICAL)
# Chips that stand for a state rather than a failure reason.
STATE_CHIPS = {"unconfirmed": OrderState.UNCONFIRMED, "historical": OrderState.HISTORICAL}
PAGE_SIZE = 50


def chip_of(order: Order) -> str:
    """The reason code the row is counted and filtered under."""
    if order.sync_state in (OrderState.HISTORICAL, OrderState.UNCONFIRMED):
        return str(order.sync_state)
    return order.sync_reason or "business"


def row_state(order: Order, now: datetime) -> str:
    """queued | pushing | pushed | abnormal | unconfirmed | historical: what the row shows."""
    if order.sync_state == OrderState.PENDING:
        return "pushing" if order.claimed_until and order.claimed_until > now else "queued"
    return str(order.sync_state)


@dataclass
class Filters:
    reason: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    cursor: str = ""


@dataclass
class Page:
    orders: list[Order]
    next_cursor: str | None


def encode_cursor(order: Order) -> str:
    raw = f"{order.ordered_at.isoformat()}|{order.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, order_id = raw.split("|")
        return datetime.fromisoformat(moment), int(order_id)
    except (ValueError, UnicodeDecodeError):
        return None


def _filtered(merchant_id: int, filters: Filters, zone: ZoneInfo):
    query = select(Order).where(Order.merchant_id == merchant_id)
    if filters.reason in STATE_CHIPS:
        query = query.where(Order.sync_state == STATE_CHIPS[filters.reason])
    elif filters.reason:
        query = query.where(Order.sync_state == OrderState.ABNORMAL, Order.sync_reason == filters.reason)
    else:
        query = query.where(Order.sync_state.in_(LISTED_STATES))
    if filters.date_from:
        query = query.where(Order.ordered_at >= datetime.combine(filters.date_from, time(), zone))
    if filters.date_to:
        query = query.where(Order.ordered_at < datetime.combine(filters.date_to + timedelta(days=1), time(), zone))
    if filters.q:
        by_code = exists().where(OrderLine.order_id == Order.id, OrderLine.merchant_code == filters.q)
        query = query.where(or_(Order.order_no == filters.q, by_code))
    return query


def list_page(merchant_id: int, filters: Filters, zone: ZoneInfo, size: int = PAGE_SIZE) -> Page:
    """Newest first, keyset pagination on (ordered_at, id): as fast on page 1,000 as on page 1."""
    query = _filtered(merchant_id, filters, zone)
    position = decode_cursor(filters.cursor) if filters.cursor else None
    if position:
        query = query.where(tuple_(Order.ordered_at, Order.id) < tuple_(*position))
    rows = db.session.scalars(query.order_by(Order.ordered_at.desc(), Order.id.desc()).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, encode_cursor(rows[-1]) if more else None)


def reason_counts(merchant_id: int) -> dict[str, int]:
    """Chip code -> orders, most first."""
    abnormal = db.session.execute(
        select(Order.sync_reason, func.count())
        .where(Order.merchant_id == merchant_id, Order.sync_state == OrderState.ABNORMAL)
        .group_by(Order.sync_reason)
    ).all()
    counts = {reason or "business": count for reason, count in abnormal}
    for chip, state in STATE_CHIPS.items():
        count = db.session.scalar(select(func.count()).select_from(Order).where(
            Order.merchant_id == merchant_id, Order.sync_state == state))
        if count:
            counts[chip] = count
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def orders_by_id(merchant_id: int, order_ids: list[int]) -> list[Order]:
    return list(db.session.scalars(select(Order).where(Order.merchant_id == merchant_id, Order.id.in_(order_ids))))


def attempts_of(order: Order) -> list[PushAttempt]:
    return list(db.session.scalars(select(PushAttempt).where(
        PushAttempt.merchant_id == order.merchant_id, PushAttempt.order_id == order.id).order_by(PushAttempt.id.desc())))


def spec_to_fix(order: Order) -> str | None:
    """For a missing merchant code: the spec (or goods) id to look up on the goods page."""
    if order.sync_reason != "missing_merchant_code":
        return None
    line = next((line for line in order.lines if not line.merchant_code), None)
    return (line.mall_spec_id or line.mall_goods_id) if line else None


def matching_ids(merchant_id: int, filters: Filters, zone: ZoneInfo, limit: int = BULK_LIMIT) -> list[int]:
    query = _filtered(merchant_id, filters, zone).where(Order.sync_state.in_(REPUSHABLE)).with_only_columns(Order.id)
    return list(db.session.scalars(query.limit(limit)))
