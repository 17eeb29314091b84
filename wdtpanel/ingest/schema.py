"""The ingest API's shape: what the mall sends (read and checked with these very definitions) and the OpenAPI
document generated from them, served at /api/v1/openapi.json.

Limits mirror what WDT would refuse, so bad data is refused here (422, the field named) and never waits in a
queue: lengths from WDT's field tables (wdtpanel/wdt/fields.py; the stricter edition wins, and our column when it
is shorter), WDT's required receiver fields, its enumerations, and the enterprise edition's check of the paid
amount."""

from __future__ import annotations

from decimal import Decimal

from ..models import Goods, Order, OrderLine, Spec
from ..states import RefundKind
from ..wdt import fields as wdt
from .fields import Choice, Count, Flag, Items, Moment, Money, Obj, RequiredWhen, Rule, Text

TRADES = (wdt.ENTERPRISE_TRADE, wdt.ULTIMATE_TRADE)
TRADE_LINES = (wdt.ENTERPRISE_TRADE_LINE, wdt.ULTIMATE_TRADE_LINE)
GOODS_LINES = (wdt.ENTERPRISE_GOODS_LINE, wdt.ULTIMATE_GOODS_LINE)


def length(record: wdt.Record, name: str) -> int:
    """The characters a WDT field takes; every field limited here has a documented length."""
    chars = record[name].length
    if chars is None:
        raise ValueError(f"{record.anchor}.{name} has no length in WDT's field tables")
    return chars


def fits(*places: tuple[wdt.Record, str], column=None) -> int:
    """The most characters every one of these WDT fields takes (and `column` holds)."""
    return min([length(record, name) for record, name in places] + ([column.type.length] if column else []))


def each(records: tuple[wdt.Record, ...], name: str) -> list[tuple[wdt.Record, str]]:
    return [(record, name) for record in records]


MALL_STATUSES = ("unpaid", "paid", "shipped", "received", "completed", "closed")
PAID_STATUSES = ("paid", "shipped", "received", "completed")
LINE_REFUND_STATUSES = ("none", "applied", "waiting_return", "waiting_receipt", "refunded", "cancelled")
MAX_LINES = 200  # WDT's limit per raw trade
MAX_QUANTITY = 99_999
# Digits before the point: a unit price below 10^7, so a line (price x quantity) stays below 10^12 and an order
# of 200 lines below 10^15, the largest amount WDT's decimal(19,4) and our columns hold.
PRICE_DIGITS, LINE_DIGITS, ORDER_DIGITS = 7, 12, 15
# Province, city and district each fit WDT's enterprise fields; joined with two spaces they fit the ultimate
# edition's receiver_area ("省 市 区"). Real names are at most 8 / 11 / 15 characters.
AREA_CHARS = length(wdt.ULTIMATE_TRADE, "receiver_area")
PROVINCE_CHARS, CITY_CHARS = 10, 12
DISTRICT_CHARS = AREA_CHARS - PROVINCE_CHARS - CITY_CHARS - 2
MOBILE = r"^1[0-9]{10}$"
PHONE = r"^[0-9()+#转 -]*$"
MAX_JSON_DEPTH = 32


def line_amount(line: dict) -> Decimal:
    return line["price"] * line["quantity"] - line["discount"]


def _discount_within_line(line: dict):
    if line["discount"] > line["price"] * line["quantity"]:
        yield "discount", "must not exceed price × quantity / 优惠不能超过金额"


def _amounts_add_up(order: dict):
    goods = sum((line_amount(line) for line in order["lines"]), Decimal("0"))
    amounts = order["amounts"]
    if amounts["discount"] > goods:
        yield "amounts.discount", (f"must not exceed the lines' total {goods} / 订单优惠不能超过商品金额 {goods}")
        return
    due = goods - amounts["discount"] + amounts["post"]
    if amounts["paid"] != due and (order["paid_at"] is not None or amounts["paid"] != 0):
        yield (
            "amounts.paid",
            (
                f"must equal lines (price × quantity − discount) − amounts.discount + amounts.post "
                f"= {due} / 实付金额应为 {due}"
            ),
        )


LINE = Obj(
    name="Line",
    fields={
        "line_id": Text(
            OrderLine.mall_line_id.type.length,
            required=True,
            identifier=True,
            description="The mall's line id, unique within the "
            "order and fixed for ever; WDT's oid is derived from order_no and line_id.",
        ),
        "goods_id": Text(fits(*each(TRADE_LINES, "goods_id")), required=True, identifier=True),
        "spec_id": Text(fits(*each(TRADE_LINES, "spec_id")), identifier=True),
        "goods_name": Text(fits(*each(TRADE_LINES, "goods_name")), required=True),
        "spec_name": Text(fits(*each(TRADE_LINES, "spec_name"))),
        "merchant_code": Text(
            fits(*each(TRADE_LINES, "spec_no")),
            identifier=True,
            description="商家编码: must match WDT's 单品 merchant code. "
            "Without it the order is stored and shown as abnormal until the mall sends it.",
        ),
        "quantity": Count(1, MAX_QUANTITY),
        "price": Money(PRICE_DIGITS, required=True, description="Unit price before discounts."),
        "discount": Money(LINE_DIGITS, description="The line's discount (all units together); default 0."),
        "refund_status": Choice(LINE_REFUND_STATUSES, default="none"),
        "refund_kind": Choice(
            tuple(RefundKind),
            description="What the buyer asked for: refund_only (仅退款) or "
            "return_and_refund (退货退款). Sets the type of WDT's refund after shipment; "
            "absent = return_and_refund.",
        ),
    },
    rules=(Rule("discount ≤ price × quantity", _discount_within_line),),
)

ORDER = Obj(
    name="Order",
    fields={
        "order_no": Text(
            fits(*each(TRADES, "tid"), column=Order.order_no),
            required=True,
            identifier=True,
            description="The mall's order number (WDT's tid).",
        ),
        "status": Choice(MALL_STATUSES, required=True),
        "created_at": Moment(required=True),
        "paid_at": Moment(description="Required when status is paid, shipped, received or completed."),
        "updated_at": Moment(
            required=True, description="The snapshot's time: a snapshot not newer than the stored one changes nothing."
        ),
        "buyer": Obj(
            {
                "nick": Text(fits(*each(TRADES, "buyer_nick"), column=Order.buyer_nick), required=True),
                "message": Text(fits(*each(TRADES, "buyer_message"), column=Order.buyer_message), multi_line=True),
            }
        ),
        "seller_memo": Text(
            fits((wdt.ENTERPRISE_TRADE, "seller_memo"), (wdt.ULTIMATE_TRADE, "remark"), column=Order.seller_memo),
            multi_line=True,
        ),
        "receiver": Obj(
            {
                "name": Text(fits(*each(TRADES, "receiver_name"), column=Order.receiver_name), required=True),
                "mobile": Text(
                    11,
                    required=True,
                    pattern=MOBILE,
                    hint="must be an 11-digit mobile number such as "
                    "13800138000 (WDT requires one; a landline goes in phone) / 请填写 11 位手机号",
                    description="Required by WDT: an 11-digit mainland mobile number. An order with only a "
                    "landline is refused: put the landline in phone and a mobile here.",
                ),
                "phone": Text(
                    fits(*each(TRADES, "receiver_telno"), column=Order.receiver_phone),
                    pattern=PHONE,
                    hint="may hold digits, spaces and ()+#-转 only / 电话格式错误",
                    description="A landline, optional.",
                ),
                "province": Text(PROVINCE_CHARS, required=True),
                "city": Text(CITY_CHARS, required=True),
                "district": Text(
                    DISTRICT_CHARS,
                    required=True,
                    description="Province, city and district are each required; "
                    f"joined with spaces they fit WDT's {AREA_CHARS}-character receiver_area.",
                ),
                "address": Text(
                    fits(*each(TRADES, "receiver_address"), column=Order.receiver_address),
                    required=True,
                    description="The street address, without province, city and district.",
                ),
                "zip": Text(fits(*each(TRADES, "receiver_zip"), column=Order.receiver_zip)),
            }
        ),
        "amounts": Obj(
            {
                "post": Money(ORDER_DIGITS),
                "discount": Money(ORDER_DIGITS, description="The order's discount, shared over the lines."),
                "paid": Money(ORDER_DIGITS, required=True),
            }
        ),
        "lines": Items(LINE, 1, MAX_LINES, unique_by="line_id"),
    },
    required_when=(RequiredWhen("paid_at", "status", PAID_STATUSES),),
    rules=(
        Rule(
            "amounts.discount ≤ Σ lines (price × quantity − discount); amounts.paid = Σ lines (price × "
            "quantity − discount) − amounts.discount + amounts.post, as WDT checks it (an order without "
            "paid_at may also send paid 0)",
            _amounts_add_up,
        ),
    ),
)

SPEC = Obj(
    name="Spec",
    fields={
        "spec_id": Text(fits(*each(GOODS_LINES, "spec_id"), column=Spec.mall_spec_id), required=True, identifier=True),
        "name": Text(fits(*each(GOODS_LINES, "spec_name"), column=Spec.name)),
        "merchant_code": Text(fits(*each(GOODS_LINES, "spec_no"), column=Spec.merchant_code), identifier=True),
        "price": Money(PRICE_DIGITS, default=None),
    },
)

GOODS = Obj(
    name="Goods",
    fields={
        "goods_id": Text(
            fits(*each(GOODS_LINES, "goods_id"), column=Goods.mall_goods_id), required=True, identifier=True
        ),
        "name": Text(fits(*each(GOODS_LINES, "goods_name"), column=Goods.name), required=True),
        "merchant_code": Text(
            fits(*each(GOODS_LINES, "spec_no"), column=Goods.merchant_code),
            identifier=True,
            description="商家编码 of a single-spec goods (no specs).",
        ),
        "on_shelf": Flag(True),
        "updated_at": Moment(required=True),
        "price": Money(PRICE_DIGITS, default=None, description="Price of a single-spec goods."),
        "specs": Items(
            SPEC,
            0,
            500,
            required=False,
            unique_by="spec_id",
            description="The specs (规格) of a multi-spec goods; none for a single-spec goods.",
        ),
    },
)

GOODS_BATCH = Obj(name="GoodsBatch", fields={"goods": Items(GOODS, 1, 500, unique_by="goods_id")})

# GET /api/v1/stock's query string, read with the same kinds of field as the bodies.
STOCK_QUERY = Obj(
    {
        "merchant_code": Text(
            fits(*each(GOODS_LINES, "spec_no"), column=Spec.merchant_code),
            required=True,
            identifier=True,
            description="The 商家编码 of the SKU (every spec carrying it is answered).",
        ),
    }
)
