"""The ingest API's shape: what the mall sends (read and checked with these very definitions) and the OpenAPI
document generated from them, served at /api/v1/openapi.json.

Limits mirror what WDT would refuse, so bad data is refused here (422, the field named) and never waits in a
queue: lengths from trade_push / pushSelf2 (the stricter edition wins), WDT's required receiver fields, its
enumerations, and the enterprise edition's check of the paid amount."""
from __future__ import annotations

from decimal import Decimal

from ..states import RefundKind
from .fields import Choice, Count, Flag, Items, Money, Moment, Obj, RequiredWhen, Rule, Text

MALL_STATUSES = ("unpaid", "paid", "shipped", "received", "completed", "closed")
PAID_STATUSES = ("paid", "shipped", "received", "completed")
LINE_REFUND_STATUSES = ("none", "applied", "waiting_return", "waiting_receipt", "refunded", "cancelled")
MAX_LINES = 200  # WDT's limit per raw trade
MAX_QUANTITY = 99_999
# Digits before the point: a unit price below 10^7, so a line (price x quantity) stays below 10^12 and an order
# of 200 lines below 10^15, the largest amount WDT's decimal(19,4) and our columns hold.
PRICE_DIGITS, LINE_DIGITS, ORDER_DIGITS = 7, 12, 15
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
        yield "amounts.paid", (f"must equal lines (price × quantity − discount) − amounts.discount + amounts.post "
                               f"= {due} / 实付金额应为 {due}")


LINE = Obj(name="Line", fields={
    "line_id": Text(40, required=True, identifier=True, description="The mall's line id, unique within the "
                    "order and fixed for ever; WDT's oid is derived from order_no and line_id."),
    "goods_id": Text(40, required=True, identifier=True),
    "spec_id": Text(40, identifier=True),
    "goods_name": Text(255, required=True),
    "spec_name": Text(100),
    "merchant_code": Text(40, identifier=True, description="商家编码: must match WDT's 单品 merchant code. "
                          "Without it the order is stored and shown as abnormal until the mall sends it."),
    "quantity": Count(1, MAX_QUANTITY),
    "price": Money(PRICE_DIGITS, required=True, description="Unit price before discounts."),
    "discount": Money(LINE_DIGITS, description="The line's discount (all units together); default 0."),
    "refund_status": Choice(LINE_REFUND_STATUSES, default="none"),
    "refund_kind": Choice(tuple(RefundKind), description="What the buyer asked for: refund_only (仅退款) or "
                          "return_and_refund (退货退款). Sets the type of WDT's refund after shipment; "
                          "absent = return_and_refund."),
}, rules=(Rule("discount ≤ price × quantity", _discount_within_line),))

ORDER = Obj(name="Order", fields={
    "order_no": Text(40, required=True, identifier=True, description="The mall's order number (WDT's tid)."),
    "status": Choice(MALL_STATUSES, required=True),
    "created_at": Moment(required=True),
    "paid_at": Moment(description="Required when status is paid, shipped, received or completed."),
    "updated_at": Moment(required=True, description="The snapshot's time: a snapshot not newer than the "
                         "stored one changes nothing."),
    "buyer": Obj({"nick": Text(100, required=True), "message": Text(512, multi_line=True)}),
    "seller_memo": Text(512, multi_line=True),
    "receiver": Obj({
        "name": Text(40, required=True),
        "mobile": Text(11, required=True, pattern=MOBILE, hint="must be an 11-digit mobile number such as "
                       "13800138000 (WDT requires one; a landline goes in phone) / 请填写 11 位手机号",
                       description="Required by WDT: an 11-digit mainland mobile number. An order with only a "
                       "landline is refused: put the landline in phone and a mobile here."),
        "phone": Text(32, pattern=PHONE, hint="may hold digits, spaces and ()+#-转 only / 电话格式错误",
                      description="A landline, optional."),
        "province": Text(10, required=True),
        "city": Text(12, required=True),
        "district": Text(16, required=True, description="Province, city and district are each required; "
                         "joined with spaces they fit WDT's 40-character receiver_area."),
        "address": Text(256, required=True, description="The street address, without province, city and district."),
        "zip": Text(16),
    }),
    "amounts": Obj({"post": Money(ORDER_DIGITS), "discount": Money(ORDER_DIGITS, description="The order's "
                    "discount, shared over the lines."), "paid": Money(ORDER_DIGITS, required=True)}),
    "lines": Items(LINE, 1, MAX_LINES, unique_by="line_id"),
}, required_when=(RequiredWhen("paid_at", "status", PAID_STATUSES),),
   rules=(Rule("amounts.discount ≤ Σ lines (price × quantity − discount); amounts.paid = Σ lines (price × "
               "quantity − discount) − amounts.discount + amounts.post, as WDT checks it (an order without "
               "paid_at may also send paid 0)", _amounts_add_up),))

SPEC = Obj(name="Spec", fields={
    "spec_id": Text(40, required=True, identifier=True),
    "name": Text(100),
    "merchant_code": Text(40, identifier=True),
    "price": Money(PRICE_DIGITS, default=None),
})

GOODS = Obj(name="Goods", fields={
    "goods_id": Text(40, required=True, identifier=True),
    "name": Text(255, required=True),
    "merchant_code": Text(40, identifier=True, description="商家编码 of a single-spec goods (no specs)."),
    "on_shelf": Flag(True),
    "updated_at": Moment(required=True),
    "price": Money(PRICE_DIGITS, default=None, description="Price of a single-spec goods."),
    "specs": Items(SPEC, 0, 500, required=False, unique_by="spec_id",
                   description="The specs (规格) of a multi-spec goods; none for a single-spec goods."),
})

GOODS_BATCH = Obj(name="GoodsBatch", fields={"goods": Items(GOODS, 1, 500, unique_by="goods_id")})
