"""bulk.insert_rows stores what a plain INSERT of the same rows stores, on the database of this pass (PostgreSQL
sends the rows as one JSON parameter)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import DataError

from wdtpanel.bulk import insert_rows
from wdtpanel.extensions import db
from wdtpanel.models import Order, Shipment, WebhookDelivery

ODD = '反斜杠\\ "引号" \u2028 换行 🍵 ☃ \'; DROP TABLE orders; --'
BEIJING = timezone(timedelta(hours=8))


@pytest.fixture
def order_id(make_merchant):
    merchant, _ = make_merchant()
    now = datetime.now(UTC)
    order = Order(
        merchant_id=merchant.id,
        order_no="B1",
        mall_status="paid",
        ordered_at=now,
        mall_updated_at=now,
        sync_state="pushed",
        buyer_nick="b",
    )
    db.session.add(order)
    db.session.commit()
    return order.id


def shipment(order_id: int, rec_id: str, **overrides) -> dict:
    merchant_id = db.session.scalar(select(Order.merchant_id).where(Order.id == order_id))
    return {
        "merchant_id": merchant_id,
        "order_id": order_id,
        "wdt_rec_id": rec_id,
        "logistics_no": f"ZT{rec_id}",
        "wdt_logistics_code": "ZTO",
        "carrier_code": "zhongtong",
        "shipped_at": datetime(2026, 11, 30, 9, 15, 30, 123456, tzinfo=BEIJING),
        "line_ids": ["L1", ODD],
        **overrides,
    }


def stored(model, *keys: str) -> list[tuple]:
    rows = db.session.execute(select(model.__table__).order_by(model.id)).mappings()
    return [tuple(row[key] for key in keys) for row in rows]


SHIPMENT_KEYS = ("order_id", "wdt_rec_id", "logistics_no", "carrier_code", "shipped_at", "line_ids")


def test_rows_are_stored_as_a_plain_insert_stores_them_in_their_order(order_id):
    table = Shipment.__table__
    db.session.execute(insert(table), [shipment(order_id, "P1", logistics_no=ODD)])
    returned = insert_rows(
        table, [shipment(order_id, f"R{n}", logistics_no=ODD) for n in (3, 1, 2)], table.c.wdt_rec_id
    )
    db.session.commit()
    assert returned == ["R3", "R1", "R2"]
    plain, *bulk = stored(Shipment, *SHIPMENT_KEYS)
    assert [row[1] for row in bulk] == ["R3", "R1", "R2"]  # ids follow the rows' order
    assert [row[:1] + row[2:] for row in bulk] == [plain[:1] + plain[2:]] * 3
    assert plain[4] == datetime(2026, 11, 30, 1, 15, 30, 123456, tzinfo=UTC)
    created = db.session.scalars(select(Shipment.created_at)).all()
    assert all(moment is not None and moment.tzinfo is UTC for moment in created)  # Python default filled in


def test_json_values_keep_their_content(order_id):
    payload = {"order_no": ODD, "line_ids": [], "nested": {"amount": "0.0001", "n": 3, "ok": True, "none": None}}
    table = WebhookDelivery.__table__
    row = {"merchant_id": 1, "order_id": order_id, "event": "shipment.created", "payload": payload, "state": "pending"}
    row["merchant_id"] = db.session.scalar(select(Order.merchant_id))
    ids = insert_rows(table, [row, row], table.c.id)
    db.session.commit()
    assert ids == sorted(ids) and len(ids) == 2
    assert stored(WebhookDelivery, "payload", "attempts", "state") == [(payload, 0, "pending")] * 2


def test_rows_whose_unique_key_exists_are_left_out_when_asked(order_id):
    table = Shipment.__table__
    insert_rows(table, [shipment(order_id, "R1")], table.c.wdt_rec_id)
    again = [shipment(order_id, "R1", logistics_no="other"), shipment(order_id, "R2")]
    assert insert_rows(table, again, table.c.wdt_rec_id, ignore_conflicts=True) == ["R2"]
    db.session.commit()
    assert stored(Shipment, "wdt_rec_id", "logistics_no") == [("R1", "ZTR1"), ("R2", "ZTR2")]


def test_a_value_longer_than_its_column_is_refused_or_kept_whole_never_cut(order_id):
    table = Shipment.__table__
    try:
        insert_rows(table, [shipment(order_id, "R1", logistics_no="长" * 65)], table.c.id)
        db.session.commit()
    except DataError:  # PostgreSQL; SQLite has no lengths and keeps it
        db.session.rollback()
        assert stored(Shipment, "id") == []
        return
    assert stored(Shipment, "logistics_no") == [("长" * 65,)]


def test_no_rows_is_no_statement(order_id):
    assert insert_rows(Shipment.__table__, [], Shipment.__table__.c.id) == []
