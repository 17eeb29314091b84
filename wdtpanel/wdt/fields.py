"""WDT's documented fields, one table per record of each endpoint we use: type, length, required flag, enumeration.

This is docs/wdt-protocol.md in code. Every field below has a row in that document under the anchor
`f-<record anchor>-<field name>` (tests/unit/test_wdt_protocol_doc.py keeps the two in step), every code table the
anchor `t-<name>`. The simulator enforces these tables; ingest may read them to refuse early what WDT would refuse.
Lengths count characters (code points), as WDT's MySQL columns do (docs/wdt-protocol.md#length-unit).
"""

from __future__ import annotations

from dataclasses import dataclass

from .editions import ULTIMATE_PAY_METHOD_MAX, ULTIMATE_WAREHOUSE_NO_REQUIRED

# required flags
REQUIRED = "yes"  # must be sent, not null and not empty
SENT = "sent"  # must be sent; the doc's text or its own example sends it empty ("" or null)
OPTIONAL = "no"
BY_RULE = "rule"  # required only as a named rule of docs/wdt-protocol.md says (e.g. province or a parsable address)

# kinds
STRING, INT, DECIMAL, DATETIME, BOOL, LIST, OBJECT = "string", "int", "decimal", "datetime", "bool", "list", "object"


@dataclass(frozen=True)
class CodeTable:
    """An enumeration WDT documents: code -> meaning. Anchored `t-<anchor>` in docs/wdt-protocol.md."""

    anchor: str
    codes: dict[int, str]

    def __contains__(self, code: object) -> bool:
        return code in self.codes


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    length: int | None = None  # characters
    required: str = OPTIONAL
    values: CodeTable | None = None
    span: tuple[int, int] | None = None  # an inclusive range for numbers


@dataclass(frozen=True)
class Record:
    """The fields of one documented object (a trade, a line, a form); `anchor` prefixes its rows' anchors."""

    anchor: str
    title: str
    fields: tuple[Field, ...]

    def __getitem__(self, name: str) -> Field:
        return next(field for field in self.fields if field.name == name)

    def field_anchor(self, name: str) -> str:
        return f"f-{self.anchor}-{name}"


def s(name: str, length: int | None, required: str = OPTIONAL) -> Field:
    return Field(name, STRING, length, required)


def i(
    name: str, required: str = OPTIONAL, values: CodeTable | None = None, span: tuple[int, int] | None = None
) -> Field:
    return Field(name, INT, None, required, values, span)


def d(name: str, required: str = OPTIONAL) -> Field:
    return Field(name, DECIMAL, None, required)


def t(name: str, required: str = OPTIONAL, length: int | None = None) -> Field:
    return Field(name, DATETIME, length, required)


def b(name: str, required: str = OPTIONAL) -> Field:
    return Field(name, BOOL, None, required)


def items(name: str, required: str = REQUIRED) -> Field:
    return Field(name, LIST, None, required)


# --- code tables --------------------------------------------------------------------------------------------

PLATFORM_STATUS = CodeTable(
    "platform-status",
    {
        10: "未确认",
        20: "待尾款",
        30: "待发货",
        40: "部分发货",
        50: "已发货",
        60: "已签收",
        70: "已完成",
        80: "已退款",
        90: "已关闭(付款前取消)",
    },
)
PAY_STATUS = CodeTable("pay-status", {0: "未付款", 1: "部分付款", 2: "已付款"})
DELIVERY_TERM = CodeTable("delivery-term", {1: "款到发货", 2: "货到付款", 3: "分期付款"})
TRADE_REFUND_STATUS = CodeTable("trade-refund-status", {0: "无退款", 1: "申请退款", 2: "部分退款", 3: "全部退款"})
LINE_REFUND_STATUS = CodeTable(
    "line-refund-status", {0: "无退款", 1: "取消退款", 2: "已申请退款", 3: "等待退货", 4: "等待收货", 5: "退款成功"}
)
ULTIMATE_LINE_REFUND_STATUS = CodeTable("ultimate-line-refund-status", {**LINE_REFUND_STATUS.codes, 6: "未付款关闭"})
PROCESS_STATUS = CodeTable(
    "process-status", {10: "待递交", 20: "已递交", 30: "部分发货", 40: "已发货", 60: "已完成", 70: "已取消"}
)
PAY_METHOD = CodeTable(
    "pay-method",
    {
        code: name
        for code, name in {
            1: "在线转帐",
            2: "现金",
            3: "银行转账",
            4: "邮局汇款",
            5: "预付款",
            6: "刷卡",
            7: "支付宝",
            8: "微信支付",
        }.items()
        if code <= ULTIMATE_PAY_METHOD_MAX
    },
)
SELLER_FLAG = CodeTable("seller-flag", {0: "无", 1: "红", 2: "黄", 3: "绿", 4: "蓝", 5: "紫"})
INVOICE_KIND = CodeTable(
    "invoice-kind", {0: "不需要", 1: "普通发票", 2: "增值税普通发票电子", 3: "增值税普通发票纸质", 4: "增值税专用发票"}
)
ULTIMATE_INVOICE_TYPE = CodeTable(
    "ultimate-invoice-type", {0: "不需要", 1: "普通发票", 2: "增值税普通发票", 3: "增值税专用发票"}
)
LOGISTICS_TYPE = CodeTable(
    "logistics-type",
    {
        -1: "不指定",
        0: "未知",
        1: "自有物流",
        2: "中国邮政",
        3: "EMS",
        4: "圆通",
        5: "中通",
        6: "申通",
        7: "全峰",
        8: "顺丰",
        9: "韵达",
        10: "百世汇通",
        11: "中铁快运",
        13: "龙邦",
        14: "快捷",
        16: "天天",
        19: "宅急送",
        20: "百世物流",
        21: "联邦",
        22: "德邦物流",
        34: "新邦",
        35: "优速",
        45: "EMS经济",
        51: "邮政国内小包",
        52: "国通",
        56: "佳吉",
        58: "天地华宇",
        72: "速尔",
        73: "信丰",
        86: "如风达",
        87: "安能物流",
        88: "德邦快递",
        89: "菜鸟智选",
        90: "菜鸟配送",
        91: "跨越",
        92: "百世快运",
        94: "德邦快运",
        95: "安能快运",
        96: "壹米滴答",
        97: "韵达快运",
        100: "承诺达",
        102: "丹鸟",
        103: "京东大件",
        104: "苏宁",
        107: "顺心捷达",
        108: "极兔",
        109: "众邮",
        110: "京东纯配",
        201: "九曳",
        1307: "顺丰同城",
        1309: "日日顺",
        1311: "京邦达",
        2000: "其他",
        2036: "亚马逊",
        2110: "中通快运",
        2111: "顺丰快运",
        2129: "丰网",
        2154: "邮政电商标快",
        2350: "京东快运",
    },
)
ORDER_TYPE = CodeTable("order-type", {0: "正常货品", 1: "虚拟货品", 2: "服务"})
GIFT_TYPE = CodeTable(
    "gift-type",
    {
        0: "非赠品",
        1: "自动赠送",
        2: "手工赠送",
        4: "周期购赠送",
        8: "平台赠送",
        32: "阶梯满赠",
        64: "CRM追加赠送",
        65: "主品",
    },
)
IS_SEALED = CodeTable("is-sealed", {0: "默认", 3: "不允许合并"})
ID_CARD_TYPE = CodeTable("id-card-type", {0: "无", 1: "身份证", 2: "军官证", 3: "护照"})
SWITCH = CodeTable("switch", {0: "非严格模式", 1: "严格模式"})
OWN_PLATFORM = CodeTable("own-platform", {127: "其他(自有商城)"})
REFUND_TYPE = CodeTable("refund-type", {1: "退款(未发货)", 2: "退货退款", 4: "退款不退货"})  # enterprise edition
REFUND_STATUS = CodeTable(  # enterprise edition
    "refund-status",
    {
        1: "已取消",
        2: "申请退款",
        3: "等待退货",
        4: "等待收货",
        5: "退款成功",
        7: "拒绝买家退货待买家修改",
        8: "卖家发出换货商品待买家签收",
    },
)
ULTIMATE_REFUND_TYPE = CodeTable(
    "ultimate-refund-type", {0: "取消订单", 1: "退款(未发货)", 2: "退货", 3: "换货", 4: "退款不退货"}
)
ULTIMATE_REFUND_STATUS = CodeTable(
    "ultimate-refund-status", {1: "取消退款", 2: "已申请退款", 3: "等待退货", 4: "等待收货", 5: "退款成功"}
)
YES_NO = CodeTable("yes-no", {0: "否", 1: "是"})
GOODS_STATUS = CodeTable("goods-status", {0: "删除", 1: "在架", 2: "下架"})
LOGISTICS_ACK_STATUS = CodeTable("logistics-ack-status", {0: "成功", 1: "失败"})
ULTIMATE_LOGISTICS_ACK_STATUS = CodeTable(
    "ultimate-logistics-ack-status", {0: "同步成功", -100: "还需同步", 2: "同步失败"}
)

CODE_TABLES = (
    PLATFORM_STATUS,
    PAY_STATUS,
    DELIVERY_TERM,
    TRADE_REFUND_STATUS,
    LINE_REFUND_STATUS,
    ULTIMATE_LINE_REFUND_STATUS,
    PROCESS_STATUS,
    PAY_METHOD,
    SELLER_FLAG,
    INVOICE_KIND,
    ULTIMATE_INVOICE_TYPE,
    LOGISTICS_TYPE,
    ORDER_TYPE,
    GIFT_TYPE,
    IS_SEALED,
    ID_CARD_TYPE,
    SWITCH,
    OWN_PLATFORM,
    REFUND_TYPE,
    REFUND_STATUS,
    ULTIMATE_REFUND_TYPE,
    ULTIMATE_REFUND_STATUS,
    YES_NO,
    GOODS_STATUS,
    LOGISTICS_ACK_STATUS,
    ULTIMATE_LOGISTICS_ACK_STATUS,
)

# --- enterprise (openapi2) ------------------------------------------------------------------------------------

ENTERPRISE_TRADE_PUSH = Record(
    "ent-push", "trade_push.php", (s("shop_no", 20, REQUIRED), i("switch", values=SWITCH), items("trade_list"))
)

ENTERPRISE_TRADE = Record(
    "ent-trade",
    "trade_push.php trade_list[]",
    (
        s("tid", 40, REQUIRED),
        i("trade_status", REQUIRED, PLATFORM_STATUS),
        i("pay_status", values=PAY_STATUS),
        i("delivery_term", REQUIRED, DELIVERY_TERM),
        t("trade_time"),
        t("pay_time", REQUIRED),
        s("buyer_nick", 100, REQUIRED),
        s("buyer_email", 60),
        s("receiver_name", 40, REQUIRED),
        s("receiver_province", 40, BY_RULE),
        s("receiver_city", 40, BY_RULE),
        s("receiver_district", 40, BY_RULE),
        s("receiver_address", 256, REQUIRED),
        s("receiver_mobile", 40, REQUIRED),
        s("receiver_telno", 40),
        s("receiver_zip", 20),
        i("invoice_kind", values=INVOICE_KIND),
        s("invoice_title", 255),
        s("invoice_content", 255),
        i("seller_flag", values=SELLER_FLAG),
        s("buyer_message", 1024),
        s("seller_memo", 1024),
        d("post_amount", REQUIRED),
        d("cod_amount", REQUIRED),
        d("ext_cod_fee", REQUIRED),
        d("other_amount", REQUIRED),
        t("to_deliver_time"),
        d("paid", REQUIRED),
        i("refund_status", values=TRADE_REFUND_STATUS),
        i("logistics_type", values=LOGISTICS_TYPE),
        items("order_list"),
    ),
)

ENTERPRISE_TRADE_LINE = Record(
    "ent-line",
    "trade_push.php order_list[]",
    (
        s("oid", 40, REQUIRED),
        d("num", REQUIRED),
        d("price", REQUIRED),
        i("status", REQUIRED, PLATFORM_STATUS),
        i("refund_status", REQUIRED, LINE_REFUND_STATUS),
        s("goods_id", 40, REQUIRED),
        s("spec_id", 40),
        s("goods_no", 40, BY_RULE),
        s("spec_no", 40, BY_RULE),  # the ERP's 商家编码
        t("to_deliver_time"),
        s("goods_name", 255, REQUIRED),
        s("spec_name", 100),
        d("adjust_amount", REQUIRED),
        d("discount", REQUIRED),
        d("share_discount", REQUIRED),
        s("remark", 1024),
    ),
)

ENTERPRISE_REFUND = Record(
    "ent-refund",
    "sales_refund_push.php api_refund_list[]",
    (
        i("platform_id", REQUIRED, OWN_PLATFORM),
        s("shop_no", 50, REQUIRED),
        s("tid", 40, REQUIRED),
        s("refund_no", 40, REQUIRED),
        i("type", REQUIRED, REFUND_TYPE),
        i("status", REQUIRED, REFUND_STATUS),
        d("refund_fee"),
        s("buyer_nick", 100),
        t("refund_time", REQUIRED),
        s("reason", 255),
        s("desc", 255),
        s("logistics_no", 40),
        s("logistics_name", 40),
        items("order_list"),
    ),
)

ENTERPRISE_REFUND_LINE = Record(
    "ent-refund-line", "sales_refund_push.php order_list[]", (s("oid", 40, REQUIRED), d("num", REQUIRED))
)

ENTERPRISE_GOODS = Record(
    "ent-goods",
    "api_goodsspec_push.php api_goods_info",
    (i("platform_id", REQUIRED, OWN_PLATFORM), s("shop_no", 40, REQUIRED), items("goods_list")),
)

ENTERPRISE_GOODS_LINE = Record(
    "ent-goods-line",
    "api_goodsspec_push.php goods_list[]",
    (
        s("goods_id", 40, REQUIRED),
        s("spec_id", 40, BY_RULE),
        s("goods_no", 40),
        s("spec_no", 40, REQUIRED),
        i("status", REQUIRED, GOODS_STATUS),
        s("goods_name", 255),
        s("spec_code", 40),
        s("spec_name", 100),
        s("pic_url", 255),
        d("price"),
        d("stock_num"),
        s("cid", 40),
    ),
)

ENTERPRISE_STOCK_QUERY = Record(
    "ent-stock-query",
    "api_goods_stock_change_query.php",
    (s("shop_no", 40, REQUIRED), i("limit", REQUIRED, span=(100, 2000))),
)

ENTERPRISE_STOCK_ACK = Record(
    "ent-stock-ack",
    "api_goods_stock_change_ack.php stock_sync_list[]",
    (s("rec_id", None, REQUIRED), i("sync_stock", REQUIRED), i("stock_change_count", REQUIRED)),
)

ENTERPRISE_LOGISTICS_QUERY = Record(
    "ent-logistics-query",
    "logistics_sync_query.php",
    (s("shop_no", 40), i("limit", REQUIRED), i("is_part_sync_able", values=YES_NO)),
)

ENTERPRISE_LOGISTICS_ACK = Record(
    "ent-logistics-ack",
    "logistics_sync_ack.php logistics_list[]",
    (s("rec_id", None, REQUIRED), i("status", REQUIRED, LOGISTICS_ACK_STATUS), s("message", 255)),
)

ENTERPRISE_RAW_TRADE_QUERY = Record(
    "ent-raw-query",
    "vip_api_trade_query.php",
    (
        s("tid", None),
        t("start_time"),
        t("end_time"),
        s("shop_no", 40),
        i("page_size", span=(1, 100)),
        i("page_no", span=(0, 1_000_000)),
    ),
)

# --- ultimate (qjb gateway) -----------------------------------------------------------------------------------

ULTIMATE_TRADE = Record(
    "ult-trade",
    "sales.RawTrade.pushSelf2 rawTradeList[]",
    (
        s("tid", 40, REQUIRED),
        i("process_status", REQUIRED, PROCESS_STATUS),
        i("trade_status", REQUIRED, PLATFORM_STATUS),
        i("refund_status", REQUIRED, TRADE_REFUND_STATUS),
        i("pay_status", REQUIRED, PAY_STATUS),
        i("order_count", REQUIRED),
        d("goods_count", REQUIRED),
        i("pay_method", REQUIRED, PAY_METHOD),
        t("trade_time", REQUIRED, 40),
        t("pay_time", OPTIONAL, 40),
        t("end_time", SENT, 40),
        s("buyer_nick", 100, REQUIRED),
        s("buyer_message", 1024),
        s("buyer_email", 40),
        s("buyer_area", 255),
        s("receiver_name", 100, REQUIRED),
        s("receiver_area", 40, BY_RULE),
        s("receiver_address", 256, REQUIRED),
        s("receiver_zip", 20),
        s("receiver_mobile", 40, REQUIRED),
        s("receiver_telno", 40),
        d("post_amount", REQUIRED),
        d("other_amount"),
        d("discount", REQUIRED),
        d("receivable", REQUIRED),
        d("platform_cost"),
        i("invoice_type", values=ULTIMATE_INVOICE_TYPE),
        s("invoice_title", 255),
        s("invoice_content", 255),
        i("logistics_type", values=LOGISTICS_TYPE),
        s("cust_data", None),
        i("delivery_term", REQUIRED, DELIVERY_TERM),
        s("pay_id", 40),
        s("remark", 1024),
        i("remark_flag", values=SELLER_FLAG),
        d("cod_amount"),
        b("is_auto_wms", REQUIRED),
        s("warehouse_no", 40, SENT if ULTIMATE_WAREHOUSE_NO_REQUIRED else OPTIONAL),
        s("pay_account", 128),
        t("to_deliver_time", OPTIONAL, 20),
        d("received"),
        i("consign_interval"),
        d("paid"),
        i("is_sealed", values=IS_SEALED),
        s("fenxiao_nick", 40),
        i("id_card_type", values=ID_CARD_TYPE),
        s("id_card", None),
        i("receiver_province_no"),
        i("receiver_city_no"),
        i("receiver_district_no"),
    ),
)

ULTIMATE_TRADE_LINE = Record(
    "ult-line",
    "sales.RawTrade.pushSelf2 rawTradeOrderList[]",
    (
        s("tid", 40, REQUIRED),
        s("oid", 40, REQUIRED),
        i("status", REQUIRED, PLATFORM_STATUS),
        i("refund_status", REQUIRED, ULTIMATE_LINE_REFUND_STATUS),
        s("goods_id", 40, REQUIRED),
        s("spec_id", 40, REQUIRED),
        s("goods_no", 40, REQUIRED),
        s("spec_no", 40, REQUIRED),  # the ERP's 商家编码
        s("goods_name", 255, REQUIRED),
        s("spec_name", 100),
        i("order_type", values=ORDER_TYPE),
        s("cid", 40),
        d("num", REQUIRED),
        d("price", REQUIRED),
        d("discount", REQUIRED),
        d("share_discount", REQUIRED),
        d("total_amount", REQUIRED),
        d("adjust_amount", REQUIRED),
        d("refund_amount", SENT),
        s("remark", 255, SENT),
        s("json", 255, SENT),
        i("gift_type", values=GIFT_TYPE),
    ),
)

ULTIMATE_REFUND = Record(
    "ult-refund",
    "aftersales.refund.RawRefund.upload order_list[]",
    (
        s("refund_no", 40, REQUIRED),
        d("num", REQUIRED),
        s("tid", 40, REQUIRED),
        s("oid", 40, REQUIRED),
        i("type", REQUIRED, ULTIMATE_REFUND_TYPE),
        i("status", REQUIRED, ULTIMATE_REFUND_STATUS),
        s("refund_version", 40, REQUIRED),
        d("refund_amount", REQUIRED),
        d("actual_refund_amount", REQUIRED),
        s("title", 255, SENT),
        s("logistics_name", 40),
        s("logistics_no", 40),
        s("buyer_nick", 100, REQUIRED),
        t("refund_time", OPTIONAL, 40),
        s("current_phase_timeout", 40),
        i("is_aftersale", REQUIRED, YES_NO),
        s("reason", 255, REQUIRED),
        d("price"),
        s("pay_account", 128),
        s("pay_no", 60),
        s("remark", 255),
        d("total_amount"),
        s("spec_no", 40),
        s("spec_id", 40),
        s("goods_no", 40),
        s("goods_id", 40),
    ),
)

ULTIMATE_GOODS = Record("ult-goods", "goods.ApiGoods.upload param", (s("shop_no", 40, REQUIRED), items("goods_list")))

ULTIMATE_GOODS_LINE = Record(
    "ult-goods-line",
    "goods.ApiGoods.upload goods_list[]",
    (
        s("goods_id", 40),
        s("spec_id", 40),
        s("goods_no", 40),
        s("spec_no", 40),
        i("status", values=GOODS_STATUS),
        s("goods_name", 255),
        s("spec_name", 100),
        s("pic_url", 255),
        d("price"),
        d("stock_num"),
    ),
)

ULTIMATE_STOCK_WAIT_LIST = Record(
    "ult-stock-wait",
    "sales.StockSync.getSelfWaitSyncIdListOpen",
    (i("count", REQUIRED, span=(10, 5000)), i("position", REQUIRED)),
)

# syncSuccess / syncFail `info`: the doc marks every key required, but its own example sends only these twelve,
# copied from the calcStock answer.
ULTIMATE_STOCK_SYNC_INFO = Record(
    "ult-stock-info",
    "sales.StockSync.syncSuccess / syncFail info",
    (
        d("syn_stock", REQUIRED),
        i("stock_change_count", REQUIRED),
        i("stock_syn_rule_id", REQUIRED),
        s("stock_syn_rule_no", 40, SENT),
        s("stock_syn_warehouses", 1024, SENT),
        i("stock_syn_mask", REQUIRED),
        i("stock_syn_percent", REQUIRED),
        d("stock_syn_plus", REQUIRED),
        d("stock_syn_min", REQUIRED),
        d("stock_syn_max", REQUIRED),
        b("is_auto_listing", REQUIRED),
        b("is_auto_delisting", REQUIRED),
        b("is_syn_success"),
        s("syn_result", 1024),
    ),
)

ULTIMATE_LOGISTICS_QUERY = Record(
    "ult-logistics-query",
    "sales.LogisticsSync.getSyncListExt params",
    (
        s("shop_no", 20, REQUIRED),
        b("is_own_platform"),
        s("tid", 40),
        s("logistics_no", 40),
        i("is_part_sync", values=YES_NO),
    ),
)

ULTIMATE_LOGISTICS_ACK = Record(
    "ult-logistics-ack",
    "sales.LogisticsSync.update syncList[]",
    (i("sync_id", REQUIRED), i("status", REQUIRED, ULTIMATE_LOGISTICS_ACK_STATUS), s("error_msg", None)),
)

ULTIMATE_RAW_TRADE_SEARCH = Record(
    "ult-raw-search",
    "sales.RawTrade.searchSelfOrder params",
    (s("tid", 40), t("start_time", OPTIONAL, 40), t("end_time", OPTIONAL, 40), s("shop_no", 20)),
)

RECORDS = (
    ENTERPRISE_TRADE_PUSH,
    ENTERPRISE_TRADE,
    ENTERPRISE_TRADE_LINE,
    ENTERPRISE_REFUND,
    ENTERPRISE_REFUND_LINE,
    ENTERPRISE_GOODS,
    ENTERPRISE_GOODS_LINE,
    ENTERPRISE_STOCK_QUERY,
    ENTERPRISE_STOCK_ACK,
    ENTERPRISE_LOGISTICS_QUERY,
    ENTERPRISE_LOGISTICS_ACK,
    ENTERPRISE_RAW_TRADE_QUERY,
    ULTIMATE_TRADE,
    ULTIMATE_TRADE_LINE,
    ULTIMATE_REFUND,
    ULTIMATE_GOODS,
    ULTIMATE_GOODS_LINE,
    ULTIMATE_STOCK_WAIT_LIST,
    ULTIMATE_STOCK_SYNC_INFO,
    ULTIMATE_LOGISTICS_QUERY,
    ULTIMATE_LOGISTICS_ACK,
    ULTIMATE_RAW_TRADE_SEARCH,
)
