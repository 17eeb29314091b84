"""Finding one order of a merchant, by the mall's order number or by our id."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Order

MAX_ROW_ID = 2**31 - 1  # ids are INTEGER on both databases: a larger one names no row (PostgreSQL would refuse it)


def order_by_no(merchant_id: int, order_no: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.merchant_id == merchant_id, Order.order_no == order_no))


def order_by_id(merchant_id: int, order_id: int) -> Order | None:
    if not 0 < order_id <= MAX_ROW_ID:  # ids from a URL or a form may not even fit the column
        return None
    return db.session.scalar(select(Order).where(Order.merchant_id == merchant_id, Order.id == order_id))
