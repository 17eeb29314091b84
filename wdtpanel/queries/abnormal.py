"""旺店通异常订单: the orders staff look at (failed, unconfirmed, historical), filtered and paged."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from ..cache import cached
from ..extensions import db
from ..models import Order
from ..push.repush import BULK_LIMIT, REPUSHABLE
from ..states import OrderState
from .lookup import Page, display_state, keyset_page, search_condition

LISTED_STATES = (OrderState.ABNORMAL, OrderState.UNCONFIRMED, OrderState.HISTORICAL)  # as models.LISTED_SQL
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
    """Chip code -> orders, most first; a few seconds old at most (WDTPANEL_COUNTS_CACHE_SECONDS): counting a
    merchant's tens of thousands of listed orders on every page load would cost more than the page itself."""
    return cached(
        f"reason_counts:{merchant_id}", current_app.config["COUNTS_CACHE_SECONDS"], lambda: _count_reasons(merchant_id)
    )


def _count_reasons(merchant_id: int) -> dict[str, int]:
    """One pass over the index of listed states and reasons."""
    counts: dict[str, int] = defaultdict(int)
    for state, reason, count in db.session.execute(
        select(Order.sync_state, Order.sync_reason, func.count())
        .where(Order.merchant_id == merchant_id, Order.sync_state.in_(LISTED_STATES))
        .group_by(Order.sync_state, Order.sync_reason)
    ):
        counts[state if state in STATE_CHIPS else (reason or "business")] += count
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def orders_by_id(merchant_id: int, order_ids: list[int]) -> list[Order]:
    return list(
        db.session.scalars(
            select(Order)
            .where(Order.merchant_id == merchant_id, Order.id.in_(order_ids))
            .order_by(Order.ordered_at.desc(), Order.id.desc())
        )
    )


def spec_to_fix(order: Order) -> str | None:
    """For a missing merchant code: the spec (or goods) id to look up on the goods page."""
    if order.sync_reason != "missing_merchant_code":
        return None
    line = next((line for line in order.lines if not line.merchant_code), None)
    return (line.mall_spec_id or line.mall_goods_id) if line else None


def matching_count(merchant_id: int, filters: Filters, zone: ZoneInfo, counts: dict[str, int], page: Page) -> int:
    """How many rows a bulk re-push of the filter would take (at most BULK_LIMIT). Counted only when neither the
    chips' counts (no date, no search) nor a lone first page (everything matching is on it) already say it."""
    if not (page.next_cursor or page.prev_cursor or filters.cursor or filters.before):
        return sum(order.sync_state in REPUSHABLE for order in page.orders)
    if not (filters.date_from or filters.date_to or filters.q):
        chips = [filters.reason] if filters.reason else list(counts)
        return min(BULK_LIMIT, sum(counts.get(chip, 0) for chip in chips if chip != "historical"))
    query = _filtered(merchant_id, filters, zone).where(Order.sync_state.in_(REPUSHABLE)).with_only_columns(Order.id)
    return db.session.execute(select(func.count()).select_from(query.limit(BULK_LIMIT).subquery())).scalar_one()


def matching_ids(merchant_id: int, filters: Filters, zone: ZoneInfo, limit: int = BULK_LIMIT) -> list[int]:
    query = _filtered(merchant_id, filters, zone).where(Order.sync_state.in_(REPUSHABLE)).with_only_columns(Order.id)
    return list(db.session.scalars(query.limit(limit)))
