"""The mall's order snapshots: read, check, and upsert (newest snapshot wins)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Insert, Row, Select, UniqueConstraint, and_, bindparam, case, exists, insert, select, sql, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..bulk import POSITION, json_recordset, json_rows
from ..columns import UTCDateTime
from ..extensions import db, insert_ignoring, python_defaults
from ..models import Order, OrderLine, SeenSignature, WdtConfig
from ..push.trade_mapping import wdt_oid
from ..queries.orders import order_by_no
from ..states import OrderState
from .fields import InvalidInput, read_or_refuse
from .replay import SPENT_COLUMNS, ReplayedRequest, spend_signature, spent_signature
from .schema import ORDER
from .signature import SignedRequest
from .snapshots import claim_newer


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


def read_order(data) -> OrderSnapshot:
    """The snapshot the mall sent, checked field by field (InvalidInput names each refused field)."""
    order = read_or_refuse(ORDER, data)
    amounts, buyer, lines = order.pop("amounts"), order.pop("buyer"), order.pop("lines")
    return OrderSnapshot(
        **order,  # order_no, status, the three times, seller_memo, receiver: same names
        buyer_nick=buyer["nick"],
        buyer_message=buyer["message"],
        post_amount=amounts["post"],
        discount_amount=amounts["discount"],
        paid_amount=amounts["paid"],
        lines=[LineSnapshot(**{**line, "merchant_code": line["merchant_code"] or None}) for line in lines],
    )


@dataclass
class UpsertResult:
    order_no: str
    outcome: str  # created | updated | unchanged | stale
    sync_state: str
    snapshot_version: int

    @classmethod
    def of(cls, order: Order, outcome: str) -> UpsertResult:
        return cls(order.order_no, outcome, order.sync_state, order.snapshot_version)


ORDER_COLUMNS = {  # snapshot attribute -> Order column
    "status": "mall_status",
    "created_at": "ordered_at",
    "paid_at": "paid_at",
    "buyer_nick": "buyer_nick",
    "buyer_message": "buyer_message",
    "seller_memo": "seller_memo",
    "post_amount": "post_amount",
    "discount_amount": "discount_amount",
    "paid_amount": "paid_amount",
}
LINE_COLUMNS = {
    "goods_id": "mall_goods_id",
    "spec_id": "mall_spec_id",
    "goods_name": "goods_name",
    "spec_name": "spec_name",
    "merchant_code": "merchant_code",
    "quantity": "quantity",
    "price": "price",
    "discount": "discount",
    "refund_status": "refund_status",
    "refund_kind": "refund_kind",
}


def upsert_order(merchant_id: int, snapshot: OrderSnapshot, spending: SignedRequest | None = None) -> UpsertResult:
    """Store the snapshot unless an equal or newer one is stored; the database decides, so parallel requests
    end at the newest snapshot. The signed request `spending` is spent with the write (ReplayedRequest if it was
    before). Leaves the commit to the caller, except one case: on PostgreSQL, called outside a transaction, a new
    order is created (and its signature spent) by one statement that commits itself."""
    created = _insert(merchant_id, snapshot, spending)
    if created is not None:
        return created
    claimed_id = claim_newer(
        Order, and_(Order.merchant_id == merchant_id, Order.order_no == snapshot.order_no), snapshot.updated_at
    )
    if claimed_id is None:
        stored = db.session.scalars(  # the row the insert ran into: orders are never deleted
            select(Order).where(Order.merchant_id == merchant_id, Order.order_no == snapshot.order_no)
        ).one()
        return UpsertResult.of(stored, "stale" if snapshot.updated_at < stored.mall_updated_at else "unchanged")
    order = db.session.scalars(
        select(Order)
        .where(Order.id == claimed_id)
        .options(selectinload(Order.lines))
        .execution_options(populate_existing=True)
    ).one()
    _refuse_changed_lines(order, snapshot)
    if not _apply(order, snapshot):
        return UpsertResult.of(order, "unchanged")
    order.snapshot_version = Order.snapshot_version + 1  # in SQL: a push finishing now sees the change
    db.session.flush()
    # Decided in the database, not from the state read above: a worker may have just recorded `pushed`.
    db.session.execute(
        update(Order)
        .where(
            Order.id == order.id, Order.sync_state.in_((OrderState.PUSHED, OrderState.ABNORMAL, OrderState.UNCONFIRMED))
        )
        .values(sync_state=OrderState.PENDING, retry_count=0, next_attempt_at=None, enqueued_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(order)
    return UpsertResult.of(order, "updated")


def _insert(merchant_id: int, snapshot: OrderSnapshot, spending: SignedRequest | None) -> UpsertResult | None:
    """A new order, its initial state decided inside the INSERT; None when the order exists (or a concurrent request
    just created it), leaving the snapshot to the claim of the stored row, with the signature spent in the session's
    transaction. PostgreSQL inserts a new order, its lines and its spent signature in one statement; SQLite in three
    (no INSERT inside WITH there)."""
    values = {column: getattr(snapshot, attr) for attr, column in ORDER_COLUMNS.items()}
    values.update({f"receiver_{key}": value for key, value in snapshot.receiver.items()})
    values.update(
        merchant_id=merchant_id,
        order_no=snapshot.order_no,
        mall_updated_at=snapshot.updated_at,
        snapshot_version=1,
        total_amount=_total(snapshot.lines),
    )
    lines = [
        {column: getattr(line, attr) for attr, column in LINE_COLUMNS.items()}
        | {
            "merchant_id": merchant_id,
            "mall_line_id": line.line_id,
            "wdt_oid": wdt_oid(snapshot.order_no, line.line_id),
        }
        for line in snapshot.lines
    ]
    switch = {"switch_merchant": merchant_id, "switch_created_at": snapshot.created_at}
    if db.session.get_bind().dialect.name != "postgresql":
        if spending is not None:
            spend_signature(spending)
        connection = db.session.connection()
        inserted = connection.execute(_new_order_statement(), values | switch).first()
        if inserted is None:
            return None
        table = OrderLine.__table__  # RETURNING makes one INSERT … VALUES of all lines: one round trip
        connection.execute(insert(table).returning(table.c.id), [line | {"order_id": inserted.id} for line in lines])
        return UpsertResult(snapshot.order_no, "created", inserted.sync_state, 1)
    values |= python_defaults(Order.__table__, {*values, "sync_state"})
    line_defaults = python_defaults(OrderLine.__table__, {*LINE_KEYS, "order_id"})
    line_columns = (*LINE_KEYS, *line_defaults)
    params = values | switch | {"lines": json_rows(OrderLine.__table__, [line | line_defaults for line in lines])}
    if spending is not None:
        params |= {f"spent_{name}": value for name, value in spent_signature(spending).items()}
    statement = _order_with_lines_statement(tuple(values), line_columns, spending is not None)
    try:
        inserted = _run_whole(statement, params)
    except IntegrityError as error:
        if spending is not None and _constraint_of(error) == SPENT_UNIQUE:
            raise ReplayedRequest(spending.signature) from error
        raise
    if inserted.id is not None:
        return UpsertResult(snapshot.order_no, "created", inserted.sync_state, 1)
    if spending is not None:
        spend_signature(spending)  # with the update that follows, in the session's transaction
    return None


def _run_whole(statement: Select, params: dict) -> Row:
    """The statement's one row. Outside a transaction it runs alone and commits itself, atomic as one statement is:
    one round trip instead of BEGIN, the statement and COMMIT. Inside the caller's transaction, in it."""
    if db.session().in_transaction():
        return db.session.connection().execute(statement, params).one()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return connection.execute(statement, params).one()


SPENT_UNIQUE = next(
    constraint.name for constraint in SeenSignature.__table__.constraints if isinstance(constraint, UniqueConstraint)
)


def _constraint_of(error: IntegrityError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None)


def _order_with_lines_statement(
    order_columns: tuple[str, ...], line_columns: tuple[str, ...], spending: bool
) -> Select:
    """PostgreSQL, one statement:
        WITH new_order AS (INSERT INTO orders … ON CONFLICT DO NOTHING RETURNING id, sync_state),
             new_lines AS (INSERT INTO order_line … SELECT new_order.id, line.* FROM new_order,
                           json_to_recordset(:lines) AS line(…) ORDER BY line.position),
             spent AS (INSERT INTO seen_signature … SELECT … FROM new_order)
        SELECT (SELECT id FROM new_order), (SELECT sync_state FROM new_order)
    The signature is spent only with a new order; spent before, its unique key fails the whole statement, so no
    order is created by a replayed request. The lines come as one JSON parameter (cheaper to send than an array per
    column), so the statement has one shape and SQLAlchemy compiles it once."""
    key = (order_columns, line_columns, spending)
    if key not in _ORDER_WITH_LINES:
        orders, lines, seen = Order.__table__, OrderLine.__table__, SeenSignature.__table__
        new_order = (
            _new_order_statement()
            .values({name: bindparam(name, type_=orders.c[name].type) for name in order_columns})
            .cte("new_order")
        )
        line, line_values = json_recordset(lines, line_columns, "lines", "line")
        each_line = (
            select(new_order.c.id, *line_values)
            .select_from(new_order.join(line, sql.true()))
            .order_by(line.c[POSITION])  # the lines' ids in the mall's order
        )
        new_lines = insert(lines).from_select(["order_id", *line_columns], each_line).cte("new_lines")
        statement = select(
            select(new_order.c.id).scalar_subquery().label("id"),
            select(new_order.c.sync_state).scalar_subquery().label("sync_state"),
        ).add_cte(new_lines)
        if spending:
            spent_values = [bindparam(f"spent_{name}", type_=seen.c[name].type) for name in SPENT_COLUMNS]
            spent = insert(seen).from_select(SPENT_COLUMNS, select(*spent_values).select_from(new_order))
            statement = statement.add_cte(spent.cte("spent"))
        _ORDER_WITH_LINES[key] = statement
    return _ORDER_WITH_LINES[key]


_ORDER_WITH_LINES: dict[tuple, Select] = {}
LINE_KEYS = (*LINE_COLUMNS.values(), "merchant_id", "mall_line_id", "wdt_oid")  # what _insert gives each line


_NEW_ORDER: dict[str, Insert] = {}


def _new_order_statement() -> Insert:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, sync_state; the state is decided in the same statement (one
    round trip): 历史订单 when the order was created before the integration was last switched on, or while it is
    off; else pending."""
    dialect = db.session.get_bind().dialect.name
    if dialect not in _NEW_ORDER:
        switched_on_before = exists().where(
            WdtConfig.merchant_id == bindparam("switch_merchant"),
            WdtConfig.enabled.is_(True),
            WdtConfig.enabled_at <= bindparam("switch_created_at", type_=UTCDateTime()),
        )
        state = case((switched_on_before, OrderState.PENDING.value), else_=OrderState.HISTORICAL.value)
        table = Order.__table__
        _NEW_ORDER[dialect] = insert_ignoring(table).values(sync_state=state).returning(table.c.id, table.c.sync_state)
    return _NEW_ORDER[dialect]


def _total(lines) -> Decimal:
    return sum((line.price * line.quantity - line.discount for line in lines), Decimal("0"))


def find_order(merchant_id: int, order_no: str) -> Order | None:
    """The merchant's order; None also for a string no order number could be (ingest would have refused it)."""
    errors: dict[str, str] = {}
    ORDER.fields["order_no"].read(order_no, "order_no", errors)
    return None if errors else order_by_no(merchant_id, order_no)


def order_status(order: Order) -> dict:
    """What the mall may read back about an order's sync with WDT."""
    return {
        "order_no": order.order_no,
        "sync_state": order.sync_state,
        "reason": order.sync_reason,
        "reason_params": order.sync_params or {},
        "push_attempts": order.push_attempts,
        "pushed_at": order.pushed_at.isoformat() if order.pushed_at else None,
        "snapshot_version": order.snapshot_version,
        "pushed_version": order.pushed_version,
        "shipping_state": order.shipping_state,
    }


def _refuse_changed_lines(order: Order, snapshot: OrderSnapshot) -> None:
    """WDT never accepts a changed quantity or price of a line it has; nor a line that disappears."""
    if order.pushed_version is None:
        return
    incoming = {line.line_id: (index, line) for index, line in enumerate(snapshot.lines)}
    errors: dict[str, str] = {}
    for line in order.lines:
        index, new = incoming.get(line.mall_line_id, (None, None))
        if new is None:
            errors.setdefault(
                "lines",
                f"line {line.mall_line_id} was pushed to WDT and cannot be removed "
                f"/ 已推送的商品行 {line.mall_line_id} 不能删除",
            )
            continue
        for name, stored in (("quantity", line.quantity), ("price", line.price)):
            if getattr(new, name) != stored:
                errors[f"lines[{index}].{name}"] = (
                    f"cannot change after the order reached WDT (was {stored}) "
                    f"/ 订单已推送到旺店通，不能再改（原为 {stored}）"
                )
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
            line = OrderLine(
                merchant_id=order.merchant_id, mall_line_id=new.line_id, wdt_oid=wdt_oid(order.order_no, new.line_id)
            )
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
    order.total_amount = _total(order.lines)
    return changed
