"""The two WDT editions: where they live, how much one call may carry, and the doubtful facts each decided in one
constant (docs/wdt-protocol.md#doubts)."""

from __future__ import annotations

from dataclasses import dataclass

EDITION_ENTERPRISE = "enterprise"
EDITION_ULTIMATE = "ultimate"
ENVIRONMENTS = ("production", "sandbox", "custom")

# [?] docs/wdt-protocol.md#doubt-ultimate-url: the ultimate doc names wdt.wangdian.cn/openapi; one SDK's example
# shows https://api.wangdian.cn.
ULTIMATE_PRODUCTION_URL = "http://wdt.wangdian.cn/openapi"
BASE_URLS = {
    (EDITION_ENTERPRISE, "production"): "https://api.wangdian.cn/openapi2/",
    (EDITION_ENTERPRISE, "sandbox"): "https://sandbox.wangdian.cn/openapi2/",
    (EDITION_ULTIMATE, "production"): ULTIMATE_PRODUCTION_URL,
    (EDITION_ULTIMATE, "sandbox"): "http://47.92.239.46/openapi",
}
GATEWAY_PATHS = {EDITION_ENTERPRISE: "/openapi2/", EDITION_ULTIMATE: "/openapi"}

# [?] docs/wdt-protocol.md#doubt-switch: trade_push `switch`, SDK comments say 0 lenient, 1 strict; we read strict
# as "refuse the whole call when one trade is bad" and always send strict.
ENTERPRISE_SWITCH = {True: "1", False: "0"}

# [?] docs/wdt-protocol.md#doubt-pay-method: pushSelf2 lists 1..8 (8 微信支付), WDT's error guide says
# "pay_method must be less than or equal to 7".
ULTIMATE_PAY_METHOD_MAX = 7
ULTIMATE_PAY_METHOD_ONLINE = 1  # 在线转帐

# [?] docs/wdt-protocol.md#doubt-warehouse-no: pushSelf2's table marks warehouse_no required, its own example leaves
# it out.
ULTIMATE_WAREHOUSE_NO_REQUIRED = False

# [?] docs/wdt-protocol.md#doubt-raw-trade-query: the enterprise raw-trade query (vip_api_trade_query.php) is a paid
# add-on (增值); only its Y-edition twin documents the tid filter. Off: find_raw_trades raises WdtUnsupported.
ENTERPRISE_RAW_TRADE_QUERY = False

# [?] docs/wdt-protocol.md#doubt-rate-limit: (code, message) of a refusal for calling too often. Ultimate: status 100
# and this message (the doc shows it with a full-width and an ASCII comma). Enterprise: no source; we assume the same
# words with code 100.
RATE_LIMIT_MESSAGE = "超过每分钟最大调用频率限制，请稍后重试"
RATE_LIMIT_ANSWERS = {EDITION_ENTERPRISE: (100, RATE_LIMIT_MESSAGE), EDITION_ULTIMATE: (100, RATE_LIMIT_MESSAGE)}
RATE_LIMIT_MARK = "超过每分钟最大"  # what every known wording shares

# [?] docs/wdt-protocol.md#doubt-buyer-nick: only the Y edition documents "≤ 30 orders with one buyer_nick per
# trade_push call"; we apply it to enterprise trade_push.
ENTERPRISE_SAME_BUYER_PER_CALL = 30

# [?] docs/wdt-protocol.md#doubt-stock-ack: the enterprise stock ack has no failure flag (the Y edition adds
# syn_status). A change the mall could not apply is not acknowledged: WDT offers it again.
ENTERPRISE_STOCK_ACK_SYN_STATUS = False


def base_url_for(edition: str, environment: str, custom_url: str | None = None) -> str:
    """The edition's base URL; for "custom", `custom_url` is a host root (e.g. the simulator's) or the full URL."""
    if edition not in GATEWAY_PATHS or environment not in ENVIRONMENTS:
        raise ValueError(f"unknown WDT edition or environment: {edition!r}, {environment!r}")
    if environment != "custom":
        return BASE_URLS[(edition, environment)]
    if not custom_url:
        raise ValueError("a custom WDT environment needs its URL")
    path = GATEWAY_PATHS[edition]
    url = custom_url.rstrip("/")
    if not url.endswith(path.rstrip("/")):
        url += path.rstrip("/")
    return url + ("/" if path.endswith("/") else "")


@dataclass(frozen=True)
class BatchLimits:
    trades: int
    acks: int
    goods: int
    refunds: int
    stock_query: tuple[int, int]  # records per stock-change query: (least, most)
    stock_acks: int
    raw_trade_query: int  # tids per raw-trade query


# docs/wdt-protocol.md#batch-limits. [?] ultimate goods (no limit stated: the enterprise 2000), ultimate stock acks
# (batchCalcStock states no limit: 100), ultimate refunds (upload2 advises 100 rows; a refund may have several).
BATCH_LIMITS = {
    EDITION_ENTERPRISE: BatchLimits(
        trades=50, acks=50, goods=2000, refunds=10, stock_query=(100, 2000), stock_acks=100, raw_trade_query=200
    ),
    EDITION_ULTIMATE: BatchLimits(
        trades=100, acks=50, goods=2000, refunds=10, stock_query=(10, 5000), stock_acks=100, raw_trade_query=1
    ),
}
