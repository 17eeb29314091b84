"""The wire form of our records, checked against WDT's own numbers and code tables (docs/wdt-protocol.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.wdt_samples import raw_line, raw_refund, raw_trade
from wdtpanel.wdt.editions import EDITION_ENTERPRISE, EDITION_ULTIMATE
from wdtpanel.wdt.fields import PAY_METHOD, REFUND_STATUS, REFUND_TYPE, ULTIMATE_REFUND_STATUS, ULTIMATE_REFUND_TYPE
from wdtpanel.wdt.payloads import enterprise_refund, ultimate_refund_rows, ultimate_trade


def doc_example_trade():
    """sales.RawTrade.pushSelf2's JSON example (docs/wdt-protocol.md#r-ult-amounts): two lines of 3 × 2.5, adjust 2,
    discount 0.5, share 0.2; postage 2 and other fees 5.2."""
    lines = [
        raw_line(
            f"tid-aqyYHjEldp-{n}",
            num=Decimal(3),
            price=Decimal("2.5"),
            adjust_amount=Decimal(2),
            discount=Decimal("0.5"),
            share_discount=Decimal("0.2"),
        )
        for n in range(2)
    ]
    return raw_trade(
        "tid-aqyYHjEldp",
        lines,
        post_amount=Decimal(2),
        other_amount=Decimal("5.2"),
        ordered=datetime(2020, 3, 20, 10, 24, 37, tzinfo=UTC),
    )


def test_ultimate_amounts_reproduce_the_doc_example():
    head, lines = ultimate_trade(doc_example_trade())
    assert [line["total_amount"] for line in lines] == ["9.0000", "9.0000"]
    assert head["receivable"] == "17.6000"
    assert head["discount"] == "1.0000"
    assert (head["goods_count"], head["order_count"]) == ("6.0000", 2)


def test_ultimate_pay_method_is_in_the_documented_range():
    head, _ = ultimate_trade(raw_trade())
    assert head["pay_method"] in PAY_METHOD and head["pay_method"] <= 7


@pytest.mark.parametrize(("kind", "status"), [(2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (4, 2), (4, 5), (1, 2)])
def test_refund_codes_are_each_editions_own(kind, status):
    refund = raw_refund(type=kind, status=status)
    enterprise = enterprise_refund("mall01", refund)
    [row] = ultimate_refund_rows(refund)
    assert enterprise["type"] in REFUND_TYPE and enterprise["status"] in REFUND_STATUS
    assert row["type"] in ULTIMATE_REFUND_TYPE and row["status"] in ULTIMATE_REFUND_STATUS
    # the same meaning in both: 2 退货(退款), 4 退款不退货, 1 退款(未发货)
    assert REFUND_TYPE.codes[enterprise["type"]][:2] == ULTIMATE_REFUND_TYPE.codes[row["type"]][:2]
    assert row["is_aftersale"] == (0 if kind == 1 else 1)


def test_return_and_refund_only_stay_apart_on_the_wire():
    kinds = {
        kind: (
            enterprise_refund("mall01", raw_refund(type=kind))["type"],
            ultimate_refund_rows(raw_refund(type=kind))[0]["type"],
        )
        for kind in (2, 4)
    }
    assert kinds == {2: (2, 2), 4: (4, 4)}


@pytest.mark.parametrize("edition", [EDITION_ENTERPRISE, EDITION_ULTIMATE])
@pytest.mark.parametrize("values", [{"type": 3}, {"type": 0}, {"status": 6}, {"status": 7}])
def test_a_refund_code_without_a_row_is_refused_before_sending(edition, values):
    build = (
        (lambda refund: enterprise_refund("mall01", refund)) if edition == EDITION_ENTERPRISE else ultimate_refund_rows
    )
    with pytest.raises(ValueError):
        build(raw_refund(**values))
