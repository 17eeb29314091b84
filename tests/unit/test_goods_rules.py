"""Pure rules of 商品同步: the platform line a spec becomes, what counts as a change, whom WDT's refusal blames."""

from __future__ import annotations

from decimal import Decimal

import pytest

from wdtpanel.models import Goods, Spec
from wdtpanel.push.goods import line_digest, platform_line
from wdtpanel.queries.goods import blamed_codes


def goods(*specs: Spec, code: str | None = None, on_shelf: bool = True) -> Goods:
    return Goods(mall_goods_id="G1", name="保温杯", merchant_code=code, on_shelf=on_shelf, specs=list(specs))


def test_a_single_spec_goods_goes_with_its_goods_id_as_spec_id_like_its_order_lines():
    spec = Spec(mall_spec_id="", name="", merchant_code="CUP-1", price=None)
    line = platform_line(goods(spec, code="CUP-1"), spec)
    assert (line.goods_id, line.spec_id, line.goods_no, line.spec_no, line.price) == (
        "G1",
        "G1",
        "CUP-1",
        "CUP-1",
        Decimal("0"),
    )


def test_a_spec_of_a_multi_spec_goods_keeps_its_own_id_and_the_shelf_state():
    spec = Spec(mall_spec_id="S2", name="蓝色", merchant_code="CUP-2", price=Decimal("9.9"))
    line = platform_line(goods(spec, on_shelf=False), spec)
    assert (line.spec_id, line.goods_no, line.spec_no, line.spec_name, line.status) == (
        "S2",
        "CUP-2",
        "CUP-2",
        "蓝色",
        2,
    )


@pytest.mark.parametrize("change", [{"name": "红"}, {"merchant_code": "CUP-9"}, {"price": Decimal("1")}])
def test_any_change_of_what_wdt_gets_changes_the_digest(change):
    spec = Spec(mall_spec_id="S1", name="红色", merchant_code="CUP-1", price=Decimal("9.9"))
    before = line_digest(platform_line(goods(spec), spec))
    for name, value in change.items():
        setattr(spec, name, value)
    assert line_digest(platform_line(goods(spec), spec)) != before


def test_the_same_spec_has_the_same_digest():
    first = Spec(mall_spec_id="S1", name="红色", merchant_code="CUP-1", price=Decimal("9.9"))
    second = Spec(mall_spec_id="S1", name="红色", merchant_code="CUP-1", price=Decimal("9.9000"))
    assert line_digest(platform_line(goods(first), first)) == line_digest(platform_line(goods(second), second))


@pytest.mark.parametrize(
    "detail,codes,blamed",
    [
        ("原始单号 T1 的商家编码 NEW-1 在旺店通中不存在", ["NEW-1", "DEMO-1"], {"NEW-1"}),
        ("商家编码 NEW-10 不存在", ["NEW-1", "NEW-10"], {"NEW-10"}),  # a whole code, not part of a longer one
        ("货品不存在", ["A-1", "B-2"], {"A-1", "B-2"}),  # names none: every code of the order is suspect
    ],
)
def test_a_refusal_blames_the_codes_it_names(detail, codes, blamed):
    assert blamed_codes(detail, codes) == blamed
