"""Edition-neutral WDT records the client, simulator and integration tests share: complete and valid as WDT documents
them (docs/wdt-protocol.md), so a test changes only what it is about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from wdtpanel.wdt import EDITION_ENTERPRISE, EDITION_ULTIMATE, PlatformGoodsLine, RawRefund, RawTrade, RawTradeLine

# where the unit tests' mocked WDT lives
URLS = {EDITION_ENTERPRISE: "https://wdt.test/openapi2/", EDITION_ULTIMATE: "https://wdt.test/openapi"}
TRADE_PUSH = {EDITION_ENTERPRISE: URLS[EDITION_ENTERPRISE] + "trade_push.php", EDITION_ULTIMATE: URLS[EDITION_ULTIMATE]}


def raw_line(oid: str = "L1", **overrides) -> RawTradeLine:
    values = dict(
        oid=oid,
        num=Decimal(2),
        price=Decimal("12.5"),
        status=30,
        refund_status=0,
        goods_id="G1",
        spec_id=f"S-{oid}",
        goods_no="GNO-1",
        spec_no="DEMO-0001",
        goods_name="保温杯",
        spec_name="红色",
        adjust_amount=Decimal(0),
        discount=Decimal("1"),
        share_discount=Decimal("0.25"),
    )
    values.update(overrides)
    return RawTradeLine(**values)


def paid_for(lines: list[RawTradeLine], post_amount: Decimal) -> Decimal:
    """What the buyer paid: the lines after their discounts and shares, plus postage (WDT's own check)."""
    return (
        sum(
            (line.price * line.num + line.adjust_amount - line.discount - line.share_discount for line in lines),
            Decimal(0),
        )
        + post_amount
    )


def raw_trade(tid: str = "T1", lines: list[RawTradeLine] | None = None, **overrides) -> RawTrade:
    ordered = overrides.pop("ordered", None) or datetime.now(UTC) - timedelta(minutes=5)
    lines = lines if lines is not None else [raw_line(f"{tid}-1")]
    post_amount = overrides.get("post_amount", Decimal(10))
    values = dict(
        tid=tid,
        trade_status=30,
        pay_status=2,
        delivery_term=1,
        trade_time=ordered,
        pay_time=ordered,
        buyer_nick="买家小王",
        receiver_name="王小明",
        receiver_mobile="13800138000",
        receiver_telno="",
        receiver_province="浙江省",
        receiver_city="杭州市",
        receiver_district="西湖区",
        receiver_address="文三路 100 号",
        receiver_zip="310000",
        buyer_message="请尽快发货",
        seller_memo="",
        post_amount=post_amount,
        cod_amount=Decimal(0),
        ext_cod_fee=Decimal(0),
        other_amount=Decimal(0),
        paid=paid_for(lines, post_amount),
        logistics_type=-1,
        refund_status=0,
        lines=lines,
    )
    values.update(overrides)
    return RawTrade(**values)


def raw_refund(refund_no: str = "R1", tid: str = "T1", oid: str = "T1-1", **overrides) -> RawRefund:
    values = dict(
        refund_no=refund_no,
        tid=tid,
        type=2,
        status=2,
        refund_fee=Decimal("23.75"),
        buyer_nick="买家小王",
        refund_time=datetime.now(UTC) - timedelta(minutes=1),
        reason="不想要了",
        lines=[(oid, Decimal(1))],
    )
    values.update(overrides)
    return RawRefund(**values)


def goods_line(number: int = 1, **overrides) -> PlatformGoodsLine:
    values = dict(
        goods_id=f"G{number}",
        spec_id=f"S{number}",
        goods_no=f"GNO-{number}",
        spec_no=f"DEMO-{number:04d}",
        goods_name="保温杯",
        spec_name="红色",
        status=1,
        price=Decimal("9.9"),
    )
    values.update(overrides)
    return PlatformGoodsLine(**values)
