"""Edition-neutral records of what we send to and get from WDT, and their wire form in each edition (wdt-api.md §3)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

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
    status: int  # platform status, wdt-api.md §5
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
    refund_no: str
    tid: str
    type: int  # 1 refund before shipment, 2 return and refund, 4 refund without return (same numbers in both editions)
    status: int  # 1 cancelled, 2 applied, 3 waiting for the return, 4 waiting for receipt, 5 refunded
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
    rec_id: str
    ok: bool
    message: str


@dataclass(frozen=True)
class LogisticsCompany:
    code: str  # logistics_no
    name: str
    logistics_type: str
    disabled: bool


@dataclass(frozen=True)
class CheckItem:
    ok: bool
    code: str  # a reason or notice code of wdtpanel/reasons.py
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectionReport:
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


def _line_fields(line: RawTradeLine) -> dict:
    return {
        "oid": line.oid, "num": money(line.num), "price": money(line.price), "status": line.status,
        "refund_status": line.refund_status, "goods_id": line.goods_id, "spec_id": line.spec_id,
        "goods_no": line.goods_no, "spec_no": line.spec_no, "goods_name": plain_text(line.goods_name),
        "spec_name": plain_text(line.spec_name), "adjust_amount": money(line.adjust_amount),
        "discount": money(line.discount), "share_discount": money(line.share_discount),
        "remark": plain_text(line.remark),
    }


def _trade_fields(trade: RawTrade) -> dict:
    return {
        "tid": trade.tid, "trade_status": trade.trade_status, "pay_status": trade.pay_status,
        "delivery_term": trade.delivery_term, "trade_time": wdt_time(trade.trade_time),
        "buyer_nick": plain_text(trade.buyer_nick), "receiver_name": plain_text(trade.receiver_name),
        "receiver_mobile": trade.receiver_mobile, "receiver_telno": trade.receiver_telno,
        "receiver_address": plain_text(trade.receiver_address), "receiver_zip": trade.receiver_zip,
        "buyer_message": plain_text(trade.buyer_message), "post_amount": money(trade.post_amount),
        "cod_amount": money(trade.cod_amount), "other_amount": money(trade.other_amount), "paid": money(trade.paid),
        "logistics_type": trade.logistics_type, "refund_status": trade.refund_status,
    }


def enterprise_trade(trade: RawTrade) -> dict:
    """One element of trade_push's trade_list, lines inside."""
    return {
        **_trade_fields(trade), "pay_time": wdt_time(trade.pay_time),
        "receiver_province": trade.receiver_province, "receiver_city": trade.receiver_city,
        "receiver_district": trade.receiver_district, "seller_memo": plain_text(trade.seller_memo),
        "ext_cod_fee": money(trade.ext_cod_fee), "order_list": [_line_fields(line) for line in trade.lines],
    }


def ultimate_trade(trade: RawTrade) -> tuple[dict, list[dict]]:
    """pushSelf2's rawTradeList element and its rawTradeOrderList rows (lines are a separate list keyed by tid)."""
    lines = []
    for line in trade.lines:
        total = _line_total(line)
        refunded = total - line.share_discount if line.refund_status == REFUNDED else ZERO
        lines.append({**_line_fields(line), "tid": trade.tid, "total_amount": money(total),
                      "refund_amount": money(refunded), "json": ""})
    # [?] receivable: what the buyer owes, lines after all discounts plus postage and other fees
    receivable = sum((_line_total(line) - line.share_discount for line in trade.lines), ZERO)
    receivable += trade.post_amount + trade.other_amount
    area = " ".join(part for part in (trade.receiver_province, trade.receiver_city, trade.receiver_district) if part)
    head = {
        **_trade_fields(trade), "pay_time": wdt_time(trade.pay_time) if trade.pay_time else None,
        "process_status": 10, "order_count": len(trade.lines),
        "goods_count": money(sum((line.num for line in trade.lines), ZERO)),
        "pay_method": 1, "end_time": None, "receiver_area": area, "remark": plain_text(trade.seller_memo),
        "discount": money(sum((line.discount + line.share_discount for line in trade.lines), ZERO)),
        "receivable": money(receivable), "is_auto_wms": False, "warehouse_no": "",
    }
    return head, lines


# --- refunds, goods, acks ---

def enterprise_refund(shop_no: str, refund: RawRefund) -> dict:
    return {
        "platform_id": OWN_PLATFORM_ID, "shop_no": shop_no, "tid": refund.tid, "refund_no": refund.refund_no,
        "type": refund.type, "status": refund.status, "refund_fee": money(refund.refund_fee),
        "buyer_nick": plain_text(refund.buyer_nick), "refund_time": wdt_time(refund.refund_time),
        "reason": plain_text(refund.reason), "order_list": [{"oid": oid, "num": money(num)} for oid, num in refund.lines],
    }


def ultimate_refund_rows(refund: RawRefund) -> list[dict]:
    """RawRefund.upload takes one row per line; [?] the refund's amount rides on its first row."""
    rows = []
    for index, (oid, num) in enumerate(refund.lines):
        amount = refund.refund_fee if index == 0 else ZERO
        rows.append({
            "refund_no": refund.refund_no, "num": money(num), "tid": refund.tid, "oid": oid, "type": refund.type,
            "status": refund.status, "refund_version": "1", "refund_amount": money(amount),
            "actual_refund_amount": money(amount if refund.status == REFUNDED else ZERO), "title": "",
            "buyer_nick": plain_text(refund.buyer_nick), "refund_time": wdt_time(refund.refund_time),
            "is_aftersale": 0 if refund.type == 1 else 1, "reason": plain_text(refund.reason),
        })
    return rows


def goods_line(line: PlatformGoodsLine) -> dict:
    return {
        "goods_id": line.goods_id, "spec_id": line.spec_id, "goods_no": line.goods_no, "spec_no": line.spec_no,
        "goods_name": plain_text(line.goods_name), "spec_name": plain_text(line.spec_name), "status": line.status,
        "price": money(line.price),
    }


def enterprise_ack(ack: LogisticsAck) -> dict:
    return {"rec_id": ack.rec_id, "status": 0 if ack.ok else 1, "message": plain_text(ack.message)}


def ultimate_ack(ack: LogisticsAck) -> dict:
    return {"sync_id": ack.rec_id, "status": 0 if ack.ok else 2, "error_msg": "" if ack.ok else plain_text(ack.message)}


# --- what WDT sends back ---

def _oids(text) -> list[str]:
    return [oid.strip() for oid in str(text or "").split(",") if oid.strip()]


def enterprise_record(raw: dict) -> LogisticsRecord:
    return LogisticsRecord(
        rec_id=id_text(raw.get("rec_id")), tid=id_text(raw.get("tid")), logistics_no=id_text(raw.get("logistics_no")),
        logistics_code=id_text(raw.get("logistics_code_erp")),
        logistics_name=id_text(raw.get("logistics_name_erp") or raw.get("logistics_name")),
        logistics_type=id_text(raw.get("logistics_type")), consign_time=parse_wdt_time(raw.get("consign_time")),
        oids=_oids(raw.get("oids")), is_part_sync=flag(raw.get("is_part_sync")), raw=raw,
    )


def ultimate_record(raw: dict) -> LogisticsRecord:
    # getSyncListExt carries no consign time; the record is created when the trade is shipped
    return LogisticsRecord(
        rec_id=id_text(raw.get("sync_id")), tid=id_text(raw.get("tid")), logistics_no=id_text(raw.get("logistics_no")),
        logistics_code=id_text(raw.get("logistics_code")), logistics_name=id_text(raw.get("logistics_name")),
        logistics_type=id_text(raw.get("logistics_type")), consign_time=parse_wdt_time(raw.get("created")),
        oids=_oids(raw.get("oids")), is_part_sync=flag(raw.get("is_part_sync")), raw=raw,
    )


def logistics_company(raw: dict) -> LogisticsCompany:
    return LogisticsCompany(code=id_text(raw.get("logistics_no")), name=id_text(raw.get("logistics_name")),
                            logistics_type=id_text(raw.get("logistics_type")), disabled=flag(raw.get("is_disabled")))
