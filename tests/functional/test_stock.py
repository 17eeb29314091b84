"""Stock as the panel keeps it: monotonic per WDT row, one event per round, and GET /api/v1/stock."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.helpers import add_goods, switch_on
from wdtpanel.extensions import db
from wdtpanel.merchant_config import load_config
from wdtpanel.models import SpecStock, WebhookDelivery
from wdtpanel.pulls.runner import PullSummary
from wdtpanel.pulls.stock import STOCK, quantity_text
from wdtpanel.wdt import StockChange

NOW = datetime.now(UTC)


def change(
    rec_id: str, count: int, quantity: str, goods_id: str = "G1", spec_id: str = "S1", code: str = "CUP-RED"
) -> StockChange:
    return StockChange(
        rec_id,
        goods_id,
        spec_id,
        code,
        Decimal(quantity),
        count,
        {
            "rec_id": rec_id,
            "goods_id": goods_id,
            "spec_id": spec_id,
            "spec_no": code,
            "sync_stock": quantity,
            "stock_change_count": count,
        },
    )


@pytest.fixture
def shop(mall_api):
    add_goods(mall_api.merchant, "G1", "保温杯", ("S1", "CUP-RED"), ("S2", "CUP-BLUE"))
    add_goods(mall_api.merchant, "G2", "茶叶", code="TEA-1")
    add_goods(mall_api.merchant, "G3", "茶叶礼盒", code="TEA-1")
    switch_on(mall_api.merchant)
    return mall_api


def apply(shop, *records: StockChange):
    summary = PullSummary()
    results = STOCK.apply(load_config(shop.merchant.id), list(records), summary)
    db.session.commit()
    return results, summary


def stored(goods_id="G1", spec_id="S1") -> SpecStock:
    db.session.expire_all()
    return db.session.scalar(
        select(SpecStock).where(SpecStock.mall_goods_id == goods_id, SpecStock.mall_spec_id == spec_id)
    )


def test_a_change_is_stored_once_and_never_overwritten_by_an_older_one(shop):
    results, summary = apply(shop, change("2001", 5, "10"))
    assert [r.ok for r in results] == [True] and len(summary.deliveries) == 1
    assert (stored().quantity, stored().version) == (Decimal("10"), 1)
    _, summary = apply(shop, change("2001", 3, "99"))  # a kept record, older than what came since
    assert (stored().quantity, stored().version, summary.deliveries) == (Decimal("10"), 1, [])
    _, summary = apply(shop, change("2001", 5, "10"))  # offered again (our ack was lost)
    assert summary.deliveries == []
    apply(shop, change("2001", 6, "8"))
    assert (stored().quantity, stored().change_count, stored().version) == (Decimal("8"), 6, 2)


def test_one_round_is_one_event_with_the_newest_change_of_each_sku(shop):
    _, summary = apply(
        shop,
        change("2001", 1, "5"),
        change("2002", 1, "7", spec_id="S2", code="CUP-BLUE"),
        change("2003", 4, "3", goods_id="G2", spec_id="G2", code="TEA-1"),
        change("2004", 1, "6", goods_id="G2", spec_id="", code="TEA-1"),
    )  # the same SKU, again
    [delivery_id] = summary.deliveries
    changes = db.session.get(WebhookDelivery, delivery_id).payload["changes"]
    assert [(c["goods_id"], c["spec_id"], c["quantity"], c["version"]) for c in changes] == [
        ("G1", "S1", "5", 1),
        ("G1", "S2", "7", 1),
        ("G2", "", "6", 2),
    ]
    assert db.session.scalar(select(func.count()).select_from(SpecStock)) == 3


def test_a_change_for_an_unknown_sku_is_refused_with_its_code(shop):
    [result] = apply(shop, change("2009", 1, "5", goods_id="G9", spec_id="S9", code="NEW-9"))[0]
    assert (result.ok, result.reason, result.params, result.subject) == (
        False,
        "unknown_spec",
        {"spec_no": "NEW-9"},
        "NEW-9",
    )


@pytest.mark.parametrize(
    "quantity,text", [("12.0000", "12"), ("0.5000", "0.5"), ("0", "0"), ("100", "100"), ("-2", "-2")]
)
def test_quantities_are_plain_decimal_strings(quantity, text):
    assert quantity_text(Decimal(quantity)) == text


def test_stock_api_answers_the_last_stock_of_every_sku_with_the_code(shop, client_b):
    apply(
        shop,
        change("2003", 1, "3", goods_id="G2", spec_id="G2", code="TEA-1"),
        change("2005", 1, "4", goods_id="G3", spec_id="G3", code="TEA-1"),
    )
    answer = shop.get("/api/v1/stock?merchant_code=TEA-1")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["merchant_code"] == "TEA-1"
    assert [(s["goods_id"], s["spec_id"], s["quantity"], s["version"]) for s in body["stock"]] == [
        ("G2", "", "3", 1),
        ("G3", "", "4", 1),
    ]
    assert shop.get("/api/v1/stock?merchant_code=CUP-BLUE").status_code == 404  # no stock reported yet
    missing = shop.get("/api/v1/stock")
    assert missing.status_code == 422 and "merchant_code" in missing.get_json()["fields"]
    assert shop.get("/api/v1/stock?merchant_code=%20TEA-1").status_code == 422
    assert shop.client.get("/api/v1/stock?merchant_code=TEA-1").status_code == 401


def test_stock_api_answers_only_the_merchant_s_own_stock(shop, make_merchant, app):
    from tests.helpers import MallApi

    apply(shop, change("2003", 1, "3", goods_id="G2", spec_id="G2", code="TEA-1"))
    other, _ = make_merchant("shop-c")
    add_goods(other, "G2", "茶叶", code="TEA-1")
    assert MallApi(app.test_client(), other).get("/api/v1/stock?merchant_code=TEA-1").status_code == 404
