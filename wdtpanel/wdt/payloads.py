"""Edition-neutral records of what we send to and get from WDT, and their wire form in each edition
(docs/wdt-protocol.md, one section per endpoint)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, Overflow
from zoneinfo import ZoneInfo

from .editions import EDITION_ENTERPRISE, EDITION_ULTIMATE, ULTIMATE_PAY_METHOD_ONLINE

SHANGHAI = ZoneInfo("Asia/Shanghai")
WDT_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
NO_TIME = "0000-00-00 00:00:00"
OWN_PLATFORM_ID = 127  # 其他 (self-built mall): the only platform WDT accepts pushes for
FOUR_PLACES = Decimal("0.0001")
ZERO = Decimal("0")
REFUNDED = 5  # line refund_status 退款成功
BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class RawTradeLine:
    oid: str
    num: Decimal
    price: Decimal  # list price before discounts; never changes after the first push
    status: int  # platform status, docs/wdt-protocol.md#t-platform-status
    refund_status: int  # 0 none ... 5 refunded
    goods_id: str
    spec_id: str
    goods_no: str
    spec_no: str  # 商家编码, WDT's key to its own goods
    goods_name: str
    spec_name: str
    adjust_amount: Decimal
    discount: Decimal
    share_discount: Decimal
    remark: str = ""


@dataclass(frozen=True)
class RawTrade:
    tid: str
    trade_status: int
    pay_status: int
    delivery_term: int
    trade_time: datetime
    pay_time: datetime | None
    buyer_nick: str
    receiver_name: str
    receiver_mobile: str
    receiver_telno: str
    receiver_province: str
    receiver_city: str
    receiver_district: str
    receiver_address: str
    receiver_zip: str
    buyer_message: str
    seller_memo: str
    post_amount: Decimal
    cod_amount: Decimal
    ext_cod_fee: Decimal
    other_amount: Decimal
    paid: Decimal
    logistics_type: int  # carrier code, -1 unspecified
    refund_status: int  # 0 none, 1 applied, 2 partly, 3 fully refunded
    lines: list[RawTradeLine]


@dataclass(frozen=True)
class RawRefund:
    refund_no: str  # at most 40 characters
    tid: str
    type: int  # edition-neutral: 1 refund before shipment, 2 return and refund, 4 refund without return
    status: int  # edition-neutral: 1 cancelled, 2 applied, 3 waiting for the return, 4 waiting for receipt, 5 refunded
    refund_fee: Decimal
    buyer_nick: str
    refund_time: datetime
    reason: str
    lines: list[tuple[str, Decimal | int]]  # (oid, num)


@dataclass(frozen=True)
class PlatformGoodsLine:
    goods_id: str
    spec_id: str
    goods_no: str
    spec_no: str
    goods_name: str
    spec_name: str
    status: int  # 0 deleted, 1 on shelf, 2 off shelf
    price: Decimal


@dataclass(frozen=True)
class StockChange:
    """A platform goods row whose sellable stock changed in WDT: set the mall's stock of (goods_id, spec_id) to
    `quantity`, then acknowledge with the same `change_count`."""

    rec_id: str  # WDT's platform-goods row; the same row comes back with a higher change_count on the next change
    goods_id: str
    spec_id: str
    spec_no: str
    quantity: Decimal
    change_count: int
    raw: dict = field(repr=False)


@dataclass(frozen=True)
class StockAck:
    """Our answer to the StockChange of the same rec_id and change_count."""

    rec_id: str
    quantity: Decimal  # the stock the mall now shows (StockChange.quantity when applied)
    change_count: int  # StockChange.change_count, echoed
    ok: bool
    message: str = ""


@dataclass(frozen=True)
class LogisticsRecord:
    rec_id: str  # ultimate: sync_id
    tid: str
    logistics_no: str
    logistics_code: str  # the ERP's own carrier code
    logistics_name: str
    logistics_type: str
    consign_time: datetime | None
    oids: list[str]  # only filled for split shipments
    is_part_sync: bool
    raw: dict = field(repr=False)


@dataclass(frozen=True)
class LogisticsAck:
    """Our answer to the LogisticsRecord of the same rec_id."""

    rec_id: str
    ok: bool  # the shipment was applied to the mall's order
    message: str  # shown in WDT next to the record (ultimate: only when not ok)


@dataclass(frozen=True)
class LogisticsCompany:
    """A carrier set up in WDT (its logistics list)."""

    code: str  # logistics_no
    name: str
    logistics_type: str
    disabled: bool


@dataclass(frozen=True)
class CheckItem:
    """One thing a connection check looked at, and what it found."""

    ok: bool
    code: str  # a reason or notice code of wdtpanel/reasons.py
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectionReport:
    """What WdtClient.check_connection found: the account, the shop, the warehouse, and WDT's carriers."""

    credentials: CheckItem
    shop: CheckItem
    warehouse: CheckItem
    logistics: list[LogisticsCompany]

    @property
    def ok(self) -> bool:
        return self.credentials.ok and self.shop.ok and self.warehouse.ok


# --- values on the wire ---


def money(value: Decimal | int) -> str:
    return format(Decimal(value).quantize(FOUR_PLACES, ROUND_HALF_UP), "f")


def decimal_of(value) -> Decimal:
    """WDT sends amounts as numbers or strings."""
    try:
        return Decimal(str(value)) if value not in (None, "") else ZERO
    except Overflow:
        return Decimal("NaN")  # beyond any Decimal (1e999999999): no amount, refused where one is stored
    except InvalidOperation:
        return ZERO


def wdt_time(moment: datetime | None) -> str:
    if moment is None:
        return NO_TIME
    if moment.tzinfo is None:
        raise ValueError("WDT times are built from aware datetimes only")
    return moment.astimezone(SHANGHAI).strftime(WDT_TIME_FORMAT)


def parse_wdt_time(text) -> datetime | None:
    if not text or str(text).startswith("0000"):
        return None
    try:
        return datetime.strptime(str(text), WDT_TIME_FORMAT).replace(tzinfo=SHANGHAI)
    except ValueError:
        return None


def plain_text(text: str) -> str:
    """Drop 4-byte characters (emoji...): WDT refuses them as 非法字符 or fails to store them."""
    return BEYOND_BMP.sub("", text or "")


def id_text(value) -> str:
    return "" if value is None else str(value)


def flag(value) -> bool:
    return str(value).strip().lower() in ("1", "true")


def compact_json(value) -> str:
    # \u-escaped, so a value's length in characters equals its length in bytes (see signing.SIGN_LENGTH)
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


# --- trades ---


def _line_total(line: RawTradeLine) -> Decimal:
    return line.price * line.num + line.adjust_amount - line.discount


def _goods_fields(line: RawTradeLine | PlatformGoodsLine) -> dict:
    """The goods and spec a trade line or platform goods line names, as both carry them to WDT."""
    return {
        "goods_id": line.goods_id,
        "spec_id": line.spec_id,
        "goods_no": line.goods_no,
        "spec_no": line.spec_no,
        "goods_name": plain_text(line.goods_name),
        "spec_name": plain_text(line.spec_name),
    }


def _line_fields(line: RawTradeLine) -> dict:
    return {
        "oid": line.oid,
        "num": money(line.num),
        "price": money(line.price),
        "status": line.status,
        "refund_status": line.refund_status,
        **_goods_fields(line),
        "adjust_amount": money(line.adjust_amount),
        "discount": money(line.discount),
        "share_discount": money(line.share_discount),
        "remark": plain_text(line.remark),
    }


def _trade_fields(trade: RawTrade) -> dict:
    return {
        "tid": trade.tid,
        "trade_status": trade.trade_status,
        "pay_status": trade.pay_status,
        "delivery_term": trade.delivery_term,
        "trade_time": wdt_time(trade.trade_time),
        "buyer_nick": plain_text(trade.buyer_nick),
        "receiver_name": plain_text(trade.receiver_name),
        "receiver_mobile": trade.receiver_mobile,
        "receiver_telno": trade.receiver_telno,
        "receiver_address": plain_text(trade.receiver_address),
        "receiver_zip": trade.receiver_zip,
        "buyer_message": plain_text(trade.buyer_message),
        "post_amount": money(trade.post_amount),
        "cod_amount": money(trade.cod_amount),
        "other_amount": money(trade.other_amount),
        "paid": money(trade.paid),
        "logistics_type": trade.logistics_type,
        "refund_status": trade.refund_status,
    }


def enterprise_trade(trade: RawTrade) -> dict:
    """One element of trade_push's trade_list, lines inside."""
    return {
        **_trade_fields(trade),
        "pay_time": wdt_time(trade.pay_time),
        "receiver_province": trade.receiver_province,
        "receiver_city": trade.receiver_city,
        "receiver_district": trade.receiver_district,
        "seller_memo": plain_text(trade.seller_memo),
        "ext_cod_fee": money(trade.ext_cod_fee),
        "order_list": [_line_fields(line) for line in trade.lines],
    }


def ultimate_trade(trade: RawTrade) -> tuple[dict, list[dict]]:
    """pushSelf2's rawTradeList element and its rawTradeOrderList rows (lines are a separate list keyed by tid)."""
    lines = []
    for line in trade.lines:
        total = _line_total(line)
        refunded = total - line.share_discount if line.refund_status == REFUNDED else ZERO
        lines.append(
            {
                **_line_fields(line),
                "tid": trade.tid,
                "total_amount": money(total),
                "refund_amount": money(refunded),
                "json": "",
            }
        )
    # receivable and discount as the doc's own example computes them (docs/wdt-protocol.md#r-ult-amounts)
    receivable = sum((_line_total(line) - line.share_discount for line in trade.lines), ZERO)
    area = " ".join(part for part in (trade.receiver_province, trade.receiver_city, trade.receiver_district) if part)
    head = {
        **_trade_fields(trade),
        "pay_time": wdt_time(trade.pay_time) if trade.pay_time else None,
        "process_status": 10,
        "order_count": len(trade.lines),
        "goods_count": money(sum((line.num for line in trade.lines), ZERO)),
        "pay_method": ULTIMATE_PAY_METHOD_ONLINE,
        "end_time": None,
        "receiver_area": area,
        "remark": plain_text(trade.seller_memo),
        "discount": money(sum((line.discount for line in trade.lines), ZERO)),
        "receivable": money(receivable),
        "is_auto_wms": False,
        "warehouse_no": "",
    }
    return head, lines


# --- refunds, goods, acks ---

# RawRefund.type / .status -> each edition's code (docs/wdt-protocol.md#r-refund-codes). The numbers happen to agree;
# a value without a row is a bug of the caller and raises.
REFUND_TYPES = {
    EDITION_ENTERPRISE: {1: 1, 2: 2, 4: 4},  # 退款(未发货), 退货退款, 退款不退货
    EDITION_ULTIMATE: {1: 1, 2: 2, 4: 4},  # 退款(未发货), 退货, 退款不退货
}
REFUND_STATUSES = {
    EDITION_ENTERPRISE: {1: 1, 2: 2, 3: 3, 4: 4, 5: 5},  # 已取消, 申请退款, 等待退货, 等待收货, 退款成功
    EDITION_ULTIMATE: {1: 1, 2: 2, 3: 3, 4: 4, 5: 5},  # 取消退款, 已申请退款, 等待退货, 等待收货, 退款成功
}
REFUND_BEFORE_SHIPMENT = 1


def refund_codes(edition: str, refund: RawRefund) -> tuple[int, int]:
    """(type, status) as `edition` numbers them."""
    try:
        return REFUND_TYPES[edition][refund.type], REFUND_STATUSES[edition][refund.status]
    except KeyError:
        raise ValueError(
            f"refund {refund.refund_no}: type {refund.type} / status {refund.status} has no {edition} code"
        ) from None


def enterprise_refund(shop_no: str, refund: RawRefund) -> dict:
    kind, status = refund_codes(EDITION_ENTERPRISE, refund)
    return {
        "platform_id": OWN_PLATFORM_ID,
        "shop_no": shop_no,
        "tid": refund.tid,
        "refund_no": refund.refund_no,
        "type": kind,
        "status": status,
        "refund_fee": money(refund.refund_fee),
        "buyer_nick": plain_text(refund.buyer_nick),
        "refund_time": wdt_time(refund.refund_time),
        "reason": plain_text(refund.reason),
        "order_list": [{"oid": oid, "num": money(num)} for oid, num in refund.lines],
    }


def ultimate_refund_rows(refund: RawRefund) -> list[dict]:
    """RawRefund.upload takes one row per line; [?] the refund's amount rides on its first row."""
    kind, status = refund_codes(EDITION_ULTIMATE, refund)
    rows = []
    for index, (oid, num) in enumerate(refund.lines):
        amount = refund.refund_fee if index == 0 else ZERO
        rows.append(
            {
                "refund_no": refund.refund_no,
                "num": money(num),
                "tid": refund.tid,
                "oid": oid,
                "type": kind,
                "status": status,
                "refund_version": "1",
                "refund_amount": money(amount),
                "actual_refund_amount": money(amount if refund.status == REFUNDED else ZERO),
                "title": "",
                "buyer_nick": plain_text(refund.buyer_nick),
                "refund_time": wdt_time(refund.refund_time),
                "is_aftersale": 0 if refund.type == REFUND_BEFORE_SHIPMENT else 1,
                "reason": plain_text(refund.reason),
            }
        )
    return rows


def goods_line(line: PlatformGoodsLine) -> dict:
    return {
        **_goods_fields(line),
        "status": line.status,
        "price": money(line.price),
    }


def enterprise_ack(ack: LogisticsAck) -> dict:
    return {"rec_id": ack.rec_id, "status": 0 if ack.ok else 1, "message": plain_text(ack.message)}


def ultimate_ack(ack: LogisticsAck) -> dict:
    return {"sync_id": ack.rec_id, "status": 0 if ack.ok else 2, "error_msg": "" if ack.ok else plain_text(ack.message)}


# --- what WDT sends back ---


def _oids(text) -> list[str]:
    return [oid.strip() for oid in str(text or "").split(",") if oid.strip()]


def _logistics_record(raw: dict, rec_id: str, code: str, name: str, consign_time: str) -> LogisticsRecord:
    """The record in `raw`, its edition's own fields named by the keys given."""
    return LogisticsRecord(
        rec_id=id_text(raw.get(rec_id)),
        tid=id_text(raw.get("tid")),
        logistics_no=id_text(raw.get("logistics_no")),
        logistics_code=id_text(raw.get(code)),
        logistics_name=id_text(raw.get(name) or raw.get("logistics_name")),
        logistics_type=id_text(raw.get("logistics_type")),
        consign_time=parse_wdt_time(raw.get(consign_time)),
        oids=_oids(raw.get("oids")),
        is_part_sync=flag(raw.get("is_part_sync")),
        raw=raw,
    )


def enterprise_record(raw: dict) -> LogisticsRecord:
    return _logistics_record(raw, "rec_id", "logistics_code_erp", "logistics_name_erp", "consign_time")


def ultimate_record(raw: dict) -> LogisticsRecord:
    # getSyncListExt carries no consign time; the record is created when the trade is shipped
    return _logistics_record(raw, "sync_id", "logistics_code", "logistics_name", "created")


WHOLE_DIGITS = 15  # beyond any stock or count; int() of a number like 1e999999999 would not return


def int_of(value) -> int:
    """A whole number WDT sent or takes back (a count, a stock); 0 for what is none (NaN, infinite, beyond 10^15:
    a stock like that was refused, not stored)."""
    try:
        number = Decimal(str(value))
    except (ArithmeticError, ValueError):
        return 0
    return int(number) if number.is_finite() and number.adjusted() < WHOLE_DIGITS else 0


def _stock_change(raw: dict, spec_no: str, quantity: str) -> StockChange:
    return StockChange(
        rec_id=id_text(raw.get("rec_id")),
        goods_id=id_text(raw.get("goods_id")),
        spec_id=id_text(raw.get("spec_id")),
        spec_no=id_text(raw.get(spec_no)),
        quantity=decimal_of(raw.get(quantity)),
        change_count=int_of(raw.get("stock_change_count")),
        raw=raw,
    )


def enterprise_stock_change(raw: dict) -> StockChange:
    return _stock_change(raw, "spec_no", "sync_stock")


def ultimate_stock_change(raw: dict) -> StockChange:
    """A calcStock / batchCalcStock row: spec_outer_id is the platform spec's merchant code, syn_stock the stock."""
    return _stock_change(raw, "spec_outer_id", "syn_stock")


def enterprise_stock_ack(ack: StockAck) -> dict:
    return {"rec_id": ack.rec_id, "sync_stock": int_of(ack.quantity), "stock_change_count": ack.change_count}


# The strategy values syncSuccess / syncFail want back, copied from the calcStock answer (the doc's own example).
STOCK_RULE_KEYS = (
    "stock_syn_rule_id",
    "stock_syn_rule_no",
    "stock_syn_warehouses",
    "stock_syn_mask",
    "stock_syn_percent",
    "stock_syn_plus",
    "stock_syn_min",
    "stock_syn_max",
    "is_auto_listing",
    "is_auto_delisting",
)


def ultimate_stock_info(ack: StockAck, calculated: dict) -> dict:
    info = {key: calculated.get(key) for key in STOCK_RULE_KEYS}
    info.update(syn_stock=int_of(ack.quantity), stock_change_count=ack.change_count)
    if not ack.ok:
        info.update(is_syn_success=False, syn_result=plain_text(ack.message))
    return info


def logistics_company(raw: dict) -> LogisticsCompany:
    return LogisticsCompany(
        code=id_text(raw.get("logistics_no")),
        name=id_text(raw.get("logistics_name")),
        logistics_type=id_text(raw.get("logistics_type")),
        disabled=flag(raw.get("is_disabled")),
    )
