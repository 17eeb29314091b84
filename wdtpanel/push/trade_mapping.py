"""Our order as WDT sees it: the raw trade (原始订单) and the after-shipment refunds."""

from __future__ import annotations

import hashlib
from dataclasses import fields
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from ..models import Order, OrderLine
from ..states import RefundKind
from ..wdt import EDITION_ENTERPRISE, RawRefund, RawTrade, RawTradeLine
from ..wdt.payloads import compact_json, enterprise_trade, ultimate_trade

CENT = Decimal("0.01")
ZERO = Decimal("0")

# Mall status -> WDT platform status (trade_status / line status), docs/wdt-protocol.md#t-platform-status.
TRADE_STATUS = {"unpaid": 10, "paid": 30, "shipped": 50, "received": 60, "completed": 70}
CLOSED_UNPAID, REFUNDED = 90, 80
# Mall line refund status -> WDT line refund_status (0 none, 1 cancelled, 2 applied, 3 awaiting return,
# 4 awaiting receipt, 5 refunded).
LINE_REFUND = {"none": 0, "cancelled": 1, "applied": 2, "waiting_return": 3, "waiting_receipt": 4, "refunded": 5}
# Mall line refund status -> WDT refund status for sales_refund_push (2 applied, 3/4 waiting, 5 refunded, 1 cancelled).
REFUND_STATUS = {"cancelled": 1, "applied": 2, "waiting_return": 3, "waiting_receipt": 4, "refunded": 5}
AFTER_SHIPMENT = ("shipped", "received", "completed")
# WDT wants a line whose goods are on their way back, or refunded, in status 80
# (docs/wdt-protocol.md#r-ent-line-refund).
REFUND_UNDER_WAY = ("waiting_return", "waiting_receipt", "refunded")
# After-sale type in the refund interfaces of both editions: 2 return and refund, 4 refund without return.
REFUND_TYPE = {RefundKind.RETURN_AND_REFUND: 2, RefundKind.REFUND_ONLY: 4}


WDT_ID_LENGTH = 40  # oid and refund_no: at most 40 characters (docs/wdt-protocol.md)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def wdt_oid(order_no: str, line_id: str) -> str:
    """The oid WDT keeps a line under: unique per seller for ever, so never the mall's per-order line number alone.
    `order_no-line_id` when that fits and reads back unambiguously (no '-' in the line id), else 'H' + a digest.
    A readable oid always holds a '-' and a digest never does, so the two forms cannot meet."""
    readable = f"{order_no}-{line_id}"
    if "-" not in line_id and len(readable) <= WDT_ID_LENGTH:
        return readable
    return "H" + _digest(order_no, line_id)


def refund_no(oid: str) -> str:
    """The refund number of a line's after-sale: one per line, stable, at most 40 characters."""
    readable = f"R{oid}"
    return readable if len(readable) <= WDT_ID_LENGTH else "RH" + _digest("refund", oid)[:30]


def trade_status(order: Order) -> int:
    if order.mall_status == "closed":
        return CLOSED_UNPAID if order.paid_at is None else REFUNDED
    return TRADE_STATUS[order.mall_status]


def line_net(line: OrderLine) -> Decimal:
    return line.price * line.quantity - line.discount


def share_discounts(order: Order) -> list[Decimal]:
    """Split the order-level discount over lines by their amount, to the cent; the last line takes the rest."""
    lines, total = order.lines, sum((line_net(line) for line in order.lines), ZERO)
    shares, given = [], ZERO
    for index, line in enumerate(lines):
        if index == len(lines) - 1:
            share = order.discount_amount - given
        elif total > 0:
            share = (order.discount_amount * line_net(line) / total).quantize(CENT, ROUND_HALF_UP)
        else:
            share = ZERO
        shares.append(share)
        given += share
    return shares


def trade_refund_status(order: Order) -> int:
    """Trade-level refund_status: 0 none, 1 applied, 2 partly refunded, 3 fully refunded."""
    states = [line.refund_status for line in order.lines]
    refunded = sum(state == "refunded" for state in states)
    if refunded == len(states):
        return 3
    if refunded:
        return 2
    return 1 if any(state in ("applied", "waiting_return", "waiting_receipt") for state in states) else 0


def to_raw_trade(order: Order) -> RawTrade:
    status = trade_status(order)
    lines = [
        RawTradeLine(
            oid=line.wdt_oid,
            num=Decimal(line.quantity),
            price=line.price,
            status=REFUNDED if line.refund_status in REFUND_UNDER_WAY else status,
            refund_status=LINE_REFUND[line.refund_status],
            goods_id=line.mall_goods_id,
            spec_id=line.mall_spec_id or line.mall_goods_id,
            goods_no=line.merchant_code or "",
            spec_no=line.merchant_code or "",
            goods_name=line.goods_name,
            spec_name=line.spec_name,
            adjust_amount=ZERO,
            discount=line.discount,
            share_discount=share,
        )
        for line, share in zip(order.lines, share_discounts(order), strict=True)
    ]
    return RawTrade(
        tid=order.order_no,
        trade_status=status,
        pay_status=0 if order.paid_at is None else 2,
        delivery_term=1,
        trade_time=order.ordered_at,
        pay_time=order.paid_at,
        buyer_nick=order.buyer_nick,
        receiver_name=order.receiver_name,
        receiver_mobile=order.receiver_mobile,
        receiver_telno=order.receiver_phone,
        receiver_province=order.receiver_province,
        receiver_city=order.receiver_city,
        receiver_district=order.receiver_district,
        receiver_address=order.receiver_address,
        receiver_zip=order.receiver_zip,
        buyer_message=order.buyer_message,
        seller_memo=order.seller_memo,
        post_amount=order.post_amount,
        cod_amount=ZERO,
        ext_cod_fee=ZERO,
        other_amount=ZERO,
        paid=order.paid_amount,
        logistics_type=-1,
        refund_status=trade_refund_status(order),
        lines=lines,
    )


def encodable(edition: str, trade: RawTrade) -> None:
    """Raise if the trade cannot be put on the wire (a time beyond what WDT's format holds, ...), so one bad order
    is found before it spoils its batch's call."""
    compact_json(enterprise_trade(trade) if edition == EDITION_ENTERPRISE else ultimate_trade(trade))


def refunds_to_push(order: Order, now: datetime) -> list[tuple[OrderLine, RawRefund]]:
    """After shipment a line's refund goes to WDT's refund interface too, once per new refund status."""
    if order.mall_status not in AFTER_SHIPMENT:
        return []
    shares = dict(zip((line.mall_line_id for line in order.lines), share_discounts(order), strict=True))
    return [
        (
            line,
            RawRefund(
                refund_no=refund_no(line.wdt_oid),
                tid=order.order_no,
                type=REFUND_TYPE[RefundKind(line.refund_kind or RefundKind.RETURN_AND_REFUND)],
                status=REFUND_STATUS[line.refund_status],
                refund_fee=line_net(line) - shares[line.mall_line_id],
                buyer_nick=order.buyer_nick,
                refund_time=now,
                reason="商城售后",
                lines=[(line.wdt_oid, line.quantity)],
            ),
        )
        for line in order.lines
        if line.refund_status != "none" and line.refund_status != line.refund_pushed_status
    ]


PII_FIELDS = ("receiver_name", "receiver_mobile", "receiver_telno", "receiver_address", "buyer_nick")


def _mask(value: str) -> str:
    if len(value) <= 2:
        return "*" * len(value)
    keep = 3 if len(value) > 8 else 1
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


TRADE_FIELDS = [f.name for f in fields(RawTrade) if f.name != "lines"]
LINE_FIELDS = [f.name for f in fields(RawTradeLine)]


def _plain(value):
    return str(value) if isinstance(value, (Decimal, datetime)) else value


def redacted(trade: RawTrade) -> dict:
    """What staff may see of a sent trade: personal data masked, amounts and codes as sent."""
    data = {name: _plain(getattr(trade, name)) for name in TRADE_FIELDS}
    data["lines"] = [{name: _plain(getattr(line, name)) for name in LINE_FIELDS} for line in trade.lines]
    for name in PII_FIELDS:
        if data.get(name):
            data[name] = _mask(data[name])
    return data
