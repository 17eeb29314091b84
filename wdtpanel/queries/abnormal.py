"""旺店通异常订单: the orders staff look at (failed, unconfirmed, historical), filtered and paged."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..extensions import db
from ..models import Order
from ..push.repush import BULK_LIMIT, REPUSHABLE
from ..states import OrderState
from .lookup import Page, display_state, keyset_page, search_condition

LISTED_STATES = (OrderState.ABNORMAL, OrderState.UNCONFIRMED, OrderState.HISTORICAL)
# Chips that stand for a state rather than a failure reason.
STATE_CHIPS = {"unconfirmed": OrderState.UNCONFIRMED, "historical": OrderState.HISTORICAL}


def chip_of(order: Order) -> str:
    """The reason code the row is counted and filtered under."""
    if order.sync_state in (OrderState.HISTORICAL, OrderState.UNCONFIRMED):
        return str(order.sync_state)
    return order.sync_reason or "business"


def row_state(order: Order, now: datetime) -> str:
    """What the row shows: queued | pushing | retry | pushed | abnormal | unconfirmed | historical."""
    return display_state(order, now)


@dataclass
class Filters:
    reason: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    cursor: str = ""
    before: str = ""


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
        query = query.where(search_condition(merchant_id, filters.q))
    return query


def list_page(merchant_id: int, filters: Filters, zone: ZoneInfo) -> Page:
    """Newest first, in keyset pages."""
    return keyset_page(_filtered(merchant_id, filters, zone), filters.cursor, filters.before)


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
    return list(db.session.scalars(select(Order).where(Order.merchant_id == merchant_id, Order.id.in_(order_ids))
                                   .order_by(Order.ordered_at.desc(), Order.id.desc())))


def spec_to_fix(order: Order) -> str | None:
    """For a missing merchant code: the spec (or goods) id to look up on the goods page."""
    if order.sync_reason != "missing_merchant_code":
        return None
    line = next((line for line in order.lines if not line.merchant_code), None)
    return (line.mall_spec_id or line.mall_goods_id) if line else None


def matching_count(merchant_id: int, filters: Filters, zone: ZoneInfo) -> int:
    """How many rows a bulk re-push of the filter would take (at most BULK_LIMIT)."""
    query = _filtered(merchant_id, filters, zone).where(Order.sync_state.in_(REPUSHABLE)).with_only_columns(Order.id)
    return db.session.scalar(select(func.count()).select_from(query.limit(BULK_LIMIT).subquery()))


def matching_ids(merchant_id: int, filters: Filters, zone: ZoneInfo, limit: int = BULK_LIMIT) -> list[int]:
    query = _filtered(merchant_id, filters, zone).where(Order.sync_state.in_(REPUSHABLE)).with_only_columns(Order.id)
    return list(db.session.scalars(query.limit(limit)))
