"""订单重推: staff send failed orders back to the push pipeline, one row or many at once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, update

from .. import audit
from ..extensions import db
from ..models import BulkRepush, Order, User
from ..queries.orders import order_by_id
from ..states import OrderState

REPUSHABLE = (OrderState.ABNORMAL, OrderState.PUSHED, OrderState.UNCONFIRMED)
BULK_LIMIT = 10_000  # rows one bulk re-push takes (the rest: press again)


class RepushRefused(Exception):
    """`reason`: not_found | historical | already_pushed."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def mark_for_repush(merchant_id: int, order_id: int) -> Order:
    """The order goes back to pending (idempotent while it is pending). Flushes; the caller commits."""
    order = order_by_id(merchant_id, order_id)
    if order is None:
        raise RepushRefused("not_found")
    if order.sync_state == OrderState.HISTORICAL:
        raise RepushRefused("historical")
    if order.sync_state == OrderState.PUSHED and order.pushed_version == order.snapshot_version:
        raise RepushRefused("already_pushed")
    db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.sync_state.in_(REPUSHABLE))
        .values(sync_state=OrderState.PENDING, retry_count=0, next_attempt_at=None, enqueued_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(order)
    return order


def repush(merchant_id: int, user: User, order_id: int) -> Order:
    """订单重推 on one row, audited. Raises RepushRefused (historical, ...)."""
    order = mark_for_repush(merchant_id, order_id)
    audit.record(merchant_id, user, "order.repush", order.order_no)
    return order


def start_bulk_repush(merchant_id: int, user: User, order_ids: list[int]) -> tuple[BulkRepush, list[int]]:
    """Re-push many rows at once, as mark_for_repush does one (in three statements, whatever their number): the
    failed and the changed go back to pending, the pending stay; the rest (historical, pushed and unchanged, not
    the merchant's) are skipped and counted."""
    wanted = list(dict.fromkeys(order_ids))[:BULK_LIMIT]
    of_merchant = and_(Order.merchant_id == merchant_id, Order.id.in_(wanted))
    waiting = set(db.session.scalars(select(Order.id).where(of_merchant, Order.sync_state == OrderState.PENDING)))
    failed_or_changed = or_(
        Order.sync_state.in_((OrderState.ABNORMAL, OrderState.UNCONFIRMED)),
        and_(
            Order.sync_state == OrderState.PUSHED,
            or_(Order.pushed_version.is_(None), Order.pushed_version != Order.snapshot_version),
        ),
    )
    marked = db.session.scalars(
        update(Order)
        .where(of_merchant, failed_or_changed)
        .values(sync_state=OrderState.PENDING, retry_count=0, next_attempt_at=None, enqueued_at=None)
        .returning(Order.id)
        .execution_options(synchronize_session=False)
    )
    taken = waiting | set(marked)
    queued = [order_id for order_id in wanted if order_id in taken]
    refused = len(wanted) - len(queued)
    bulk = BulkRepush(merchant_id=merchant_id, user_id=user.id, order_ids=queued, refused=refused)
    db.session.add(bulk)
    audit.record(merchant_id, user, "order.bulk_repush", f"{len(queued)} orders", {"refused": refused})
    db.session.flush()
    return bulk, queued


@dataclass
class BulkProgress:
    total: int
    done: int
    pushed: int
    failed: int
    refused: int

    @property
    def finished(self) -> bool:
        return self.done >= self.total


def bulk_progress(merchant_id: int, bulk_id: int) -> BulkProgress | None:
    bulk = db.session.scalar(select(BulkRepush).where(BulkRepush.merchant_id == merchant_id, BulkRepush.id == bulk_id))
    if bulk is None:
        return None
    states = dict(
        db.session.execute(
            select(Order.sync_state, func.count())
            .where(Order.merchant_id == merchant_id, Order.id.in_(bulk.order_ids))
            .group_by(Order.sync_state)
        ).all()
    )
    pushed = states.get(OrderState.PUSHED, 0)
    failed = states.get(OrderState.ABNORMAL, 0) + states.get(OrderState.UNCONFIRMED, 0)
    return BulkProgress(len(bulk.order_ids), pushed + failed, pushed, failed, bulk.refused)
