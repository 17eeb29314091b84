"""bulk.insert_rows stores what a plain INSERT of the same rows stores, on the database of this pass (PostgreSQL
sends the rows as one JSON parameter)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Text, insert, select, sql
from sqlalchemy.exc import DataError

from wdtpanel import bulk
from wdtpanel.bulk import insert_rows
from wdtpanel.extensions import db
from wdtpanel.models import Order, OrderLine, Shipment, WebhookDelivery

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
    assert None not in db.session.scalars(select(Shipment.created_at)).all()  # the Python default, filled in


def test_a_callable_default_is_called_for_each_row(order_id, monkeypatch):
    defaults_asked = []
    real = bulk.python_defaults
    monkeypatch.setattr(bulk, "python_defaults", lambda *args: defaults_asked.append(1) or real(*args))
    table = Shipment.__table__
    insert_rows(table, [shipment(order_id, f"R{n}") for n in range(3)], table.c.id)
    assert len(defaults_asked) == (3 if db.engine.dialect.name == "postgresql" else 0)  # SQLite: SQLAlchemy's own


def test_json_values_are_stored_as_a_plain_insert_stores_them(order_id):
    """The same JSON text, a None as JSON null, and a NUL inside JSON kept (WDT may send any oid)."""
    merchant_id = db.session.scalar(select(Order.merchant_id))
    payloads = [
        {"order_no": ODD, "line_ids": ["L\x00"], "nested": {"amount": "0.0001", "n": 3, "ok": True, "none": None}},
        None,
    ]
    table = WebhookDelivery.__table__
    rows = [
        {"merchant_id": merchant_id, "order_id": order_id, "event": "e", "payload": payload, "state": "pending"}
        for payload in payloads
    ]
    db.session.execute(insert(table), rows)
    ids = insert_rows(table, rows, table.c.id)
    db.session.commit()
    assert ids == sorted(ids) and len(ids) == 2
    assert (
        stored(WebhookDelivery, "payload", "attempts", "state") == [(payload, 0, "pending") for payload in payloads] * 2
    )
    as_text = db.session.scalars(select(sql.cast(WebhookDelivery.payload, Text)).order_by(WebhookDelivery.id)).all()
    assert as_text[2:] == as_text[:2]


def test_amounts_and_defaults_are_stored_as_a_plain_insert_stores_them(order_id):
    merchant_id = db.session.scalar(select(Order.merchant_id))
    table = OrderLine.__table__
    rows = [
        {
            "merchant_id": merchant_id,
            "order_id": order_id,
            "mall_line_id": f"L{n}",
            "wdt_oid": f"B1-L{n}",
            "mall_goods_id": "G",
            "mall_spec_id": "S",
            "goods_name": ODD,
            "quantity": 2,
            "price": Decimal(price),
            "discount": Decimal("0.0001"),
        }
        for n, price in enumerate(("9999999.9999", "0.00005", "1.5"))
    ]
    db.session.execute(insert(table), rows)
    insert_rows(table, [row | {"mall_line_id": "B" + row["mall_line_id"]} for row in rows], table.c.id)
    db.session.commit()
    keys = [column.name for column in table.columns if column.name not in ("id", "mall_line_id")]
    plain, bulk = stored(OrderLine, *keys)[:3], stored(OrderLine, *keys)[3:]
    assert bulk == plain


def test_rows_must_all_have_the_same_keys(order_id):
    rows = [shipment(order_id, "R1"), shipment(order_id, "R2") | {"carrier_code": None, "spare": 1}]
    with pytest.raises(ValueError):
        insert_rows(Shipment.__table__, rows, Shipment.__table__.c.id)


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
