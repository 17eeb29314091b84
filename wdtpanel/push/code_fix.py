"""Fix once: the mall sent a corrected 商家编码; the abnormal orders that failed only because of the old code take the
spec's code on their failing lines and are re-pushed together (重推受影响订单), audited line by line."""

from __future__ import annotations

from sqlalchemy import update

from .. import audit
from ..extensions import db
from ..models import BulkRepush, Order, User
from ..queries.goods import fixable_orders, unknown_codes
from .repush import start_bulk_repush


def repush_fixed_orders(merchant_id: int, user: User) -> tuple[BulkRepush, list[int]] | None:
    """Give each fixable order its specs' codes and re-push them all; None when there is none. Flushes; the caller
    commits, then queues the pushes."""
    fixable = fixable_orders(merchant_id, unknown_codes(merchant_id))
    if not fixable:
        return None
    for item in fixable:
        changes = {fix.line.mall_line_id: [fix.old_code, fix.new_code] for fix in item.fixes}
        for fix in item.fixes:
            fix.line.merchant_code = fix.new_code
        # what WDT gets differs from every earlier push of this order
        db.session.execute(
            update(Order)
            .where(Order.id == item.order.id)
            .values(snapshot_version=Order.snapshot_version + 1)
            .execution_options(synchronize_session=False)
        )
        audit.record(merchant_id, user, "order.code_fixed", item.order.order_no, changes)
    db.session.flush()
    return start_bulk_repush(merchant_id, user, [item.order.id for item in fixable])
