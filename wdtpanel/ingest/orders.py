"""The mall's order snapshots: read, check, and upsert (newest snapshot wins)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, select, update
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Order, OrderLine, WdtConfig
from ..push.trade_mapping import wdt_oid
from ..queries.orders import order_by_no
from ..states import OrderState, RefundKind
from .reader import InvalidInput, Reader
from .snapshots import take_row

MALL_STATUSES = ("unpaid", "paid", "shipped", "received", "completed", "closed")
LINE_REFUND_STATUSES = ("none", "applied", "waiting_return", "waiting_receipt", "refunded", "cancelled")
MAX_LINES = 200  # WDT's limit per raw trade


@dataclass
class LineSnapshot:
    line_id: str
    goods_id: str
    spec_id: str
    goods_name: str
    spec_name: str
    merchant_code: str | None
    quantity: int
    price: Decimal
    discount: Decimal
    refund_status: str
    refund_kind: str | None


@dataclass
class OrderSnapshot:
    order_no: str
    status: str
    created_at: datetime
    paid_at: datetime | None
    updated_at: datetime
    buyer_nick: str
    buyer_message: str
    seller_memo: str
    receiver: dict[str, str]
    post_amount: Decimal
    discount_amount: Decimal
    paid_amount: Decimal
    lines: list[LineSnapshot]


RECEIVER_FIELDS = {"name": 64, "mobile": 32, "phone": 32, "province": 32, "city": 32, "district": 32,
                   "address": 256, "zip": 16}


def read_order(data) -> OrderSnapshot:
    errors: dict[str, str] = {}
    top = Reader(data, "", errors)
    receiver_in = top.child("receiver")
    receiver = {name: receiver_in.text(name, limit, required=name in ("name", "address")) for name, limit in
                RECEIVER_FIELDS.items()}
    if not receiver["mobile"] and not receiver["phone"]:
        receiver_in.fail("mobile", "mobile or phone is required / 手机或电话至少填一个")
    amounts = top.child("amounts")
    buyer = top.child("buyer")
    snapshot = OrderSnapshot(
        order_no=top.text("order_no", 40, required=True),
        status=top.choice("status", MALL_STATUSES, required=True),
        created_at=top.moment("created_at", required=True),
        paid_at=top.moment("paid_at"),
        updated_at=top.moment("updated_at", required=True),
        buyer_nick=buyer.text("nick", 100, required=True),
        buyer_message=buyer.text("message", 512),
        seller_memo=top.text("seller_memo", 512),
        receiver=receiver,
        post_amount=amounts.money("post"),
        discount_amount=amounts.money("discount"),
        paid_amount=amounts.money("paid", required=True),
        lines=[_read_line(line) for line in top.objects("lines", MAX_LINES)],
    )
    seen: set[str] = set()
    for index, line in enumerate(snapshot.lines):
        if line.line_id in seen:
            errors.setdefault(f"lines[{index}].line_id", "is repeated in this order / 订单内重复")
        seen.add(line.line_id)
    if snapshot.status != "unpaid" and snapshot.paid_at is None and "status" not in errors:
        errors.setdefault("paid_at", f"is required when status is {snapshot.status} / 已支付订单必须有支付时间")
    if errors:
        raise InvalidInput(errors)
    return snapshot


def _read_line(line: Reader) -> LineSnapshot:
    return LineSnapshot(
        line_id=line.text("line_id", 40, required=True),
        goods_id=line.text("goods_id", 64, required=True),
        spec_id=line.text("spec_id", 64),
        goods_name=line.text("goods_name", 255, required=True),
        spec_name=line.text("spec_name", 255),
        merchant_code=line.text("merchant_code", 64) or None,
        quantity=line.positive_int("quantity"),
        price=line.money("price", required=True),
        discount=line.money("discount"),
        refund_status=line.choice("refund_status", LINE_REFUND_STATUSES, default="none"),
        refund_kind=line.choice("refund_kind", tuple(RefundKind)),
    )


@dataclass
class UpsertResult:
    order: Order
    outcome: str  # created | updated | unchanged | stale


ORDER_COLUMNS = {  # snapshot attribute -> Order column
    "status": "mall_status", "created_at": "ordered_at", "paid_at": "paid_at", "buyer_nick": "buyer_nick",
    "buyer_message": "buyer_message", "seller_memo": "seller_memo", "post_amount": "post_amount",
    "discount_amount": "discount_amount", "paid_amount": "paid_amount",
}
LINE_COLUMNS = {
    "goods_id": "mall_goods_id", "spec_id": "mall_spec_id", "goods_name": "goods_name", "spec_name": "spec_name",
    "merchant_code": "merchant_code", "quantity": "quantity", "price": "price", "discount": "discount",
    "refund_status": "refund_status", "refund_kind": "refund_kind",
}


def upsert_order(merchant_id: int, snapshot: OrderSnapshot) -> UpsertResult:
    """Store the snapshot unless an equal or newer one is stored; the database decides, so parallel requests
    end at the newest snapshot. Does not commit."""
    key = and_(Order.merchant_id == merchant_id, Order.order_no == snapshot.order_no)
    taken = take_row(Order, key, snapshot.updated_at, lambda: _new_order(merchant_id, snapshot))
    if taken.created is not None:
        return UpsertResult(taken.created, "created")
    if taken.claimed_id is None:
        stored = order_by_no(merchant_id, snapshot.order_no)
        return UpsertResult(stored, "stale" if snapshot.updated_at < stored.mall_updated_at else "unchanged")
    order = db.session.scalars(select(Order).where(Order.id == taken.claimed_id).options(selectinload(Order.lines))
                               .execution_options(populate_existing=True)).one()
    _refuse_changed_lines(order, snapshot)
    if not _apply(order, snapshot):
        return UpsertResult(order, "unchanged")
    order.snapshot_version = Order.snapshot_version + 1  # in SQL: a push finishing now sees the change
    db.session.flush()
    # Decided in the database, not from the state read above: a worker may have just recorded `pushed`.
    db.session.execute(
        update(Order).where(Order.id == order.id, Order.sync_state.in_((OrderState.PUSHED, OrderState.ABNORMAL, OrderState.UNCONFIRMED)))
        .values(sync_state=OrderState.PENDING, retry_count=0, next_attempt_at=None, enqueued_at=None)
        .execution_options(synchronize_session=False))
    db.session.refresh(order)
    return UpsertResult(order, "updated")


def _new_order(merchant_id: int, snapshot: OrderSnapshot) -> Order:
    order = Order(merchant_id=merchant_id, order_no=snapshot.order_no, snapshot_version=1,
                  sync_state=_initial_state(merchant_id, snapshot.created_at))
    _apply(order, snapshot)
    return order


def order_status(order: Order) -> dict:
    """What the mall may read back about an order's sync with WDT."""
    return {
        "order_no": order.order_no, "sync_state": order.sync_state, "reason": order.sync_reason,
        "reason_params": order.sync_params or {}, "push_attempts": order.push_attempts,
        "pushed_at": order.pushed_at.isoformat() if order.pushed_at else None,
        "snapshot_version": order.snapshot_version, "pushed_version": order.pushed_version,
        "shipping_state": order.shipping_state,
    }


def _initial_state(merchant_id: int, created_at: datetime) -> str:
    """历史订单: created before the integration was last switched on (or while it is off)."""
    config = db.session.scalar(select(WdtConfig).where(WdtConfig.merchant_id == merchant_id))
    if config is None or not config.enabled or config.enabled_at is None or created_at < config.enabled_at:
        return OrderState.HISTORICAL
    return OrderState.PENDING


def _refuse_changed_lines(order: Order, snapshot: OrderSnapshot) -> None:
    """WDT never accepts a changed quantity or price of a line it has; nor a line that disappears."""
    if order.pushed_version is None:
        return
    incoming = {line.line_id: line for line in snapshot.lines}
    errors = {}
    for line in order.lines:
        new = incoming.get(line.mall_line_id)
        if new is None:
            errors[f"lines[{line.mall_line_id}]"] = "line was pushed to WDT and cannot be removed / 已推送的商品行不能删除"
        elif (new.quantity, new.price) != (line.quantity, line.price):
            errors[f"lines[{line.mall_line_id}]"] = ("quantity and price cannot change after the order reached WDT "
                                                    "/ 订单已推送到旺店通，商品数量和单价不能再改")
    if errors:
        raise InvalidInput(errors)


def _apply(order: Order, snapshot: OrderSnapshot) -> bool:
    """Copy the snapshot onto the order; True when anything WDT would see changed."""
    changed = False
    values = {column: getattr(snapshot, attr) for attr, column in ORDER_COLUMNS.items()}
    values.update({f"receiver_{key}": value for key, value in snapshot.receiver.items()})
    for column, value in values.items():
        if getattr(order, column) != value:
            setattr(order, column, value)
            changed = True
    order.mall_updated_at = snapshot.updated_at
    lines = {line.mall_line_id: line for line in order.lines}
    for new in snapshot.lines:
        line = lines.get(new.line_id)
        if line is None:
            line = OrderLine(merchant_id=order.merchant_id, mall_line_id=new.line_id,
                             wdt_oid=wdt_oid(order.order_no, new.line_id))
            order.lines.append(line)
            changed = True
        for attr, column in LINE_COLUMNS.items():
            if getattr(line, column) != getattr(new, attr):
                setattr(line, column, getattr(new, attr))
                changed = True
    kept = {line.line_id for line in snapshot.lines}
    for line in list(order.lines):
        if line.mall_line_id not in kept:
            order.lines.remove(line)
            changed = True
    order.total_amount = sum((line.price * line.quantity - line.discount for line in order.lines), Decimal("0"))
    return changed
