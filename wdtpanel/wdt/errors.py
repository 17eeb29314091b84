"""What went wrong talking to WDT: one reason code of ours per failure (wdtpanel/reasons.py), transient or permanent."""

from __future__ import annotations

import re

from ..reasons import REASONS, render
from .editions import EDITION_ULTIMATE, RATE_LIMIT_MARK

# WDT's answer -> our reason. First match wins. Columns: edition (None: both), WDT's code/status (None: any),
# a regular expression searched in WDT's message (None: any). Enterprise codes are not published, so enterprise
# answers are told apart by their message only.
RULES: tuple[tuple[str | None, str | None, str | None, str], ...] = (
    (EDITION_ULTIMATE, "7", None, "clock_skew"),
    (None, None, RATE_LIMIT_MARK, "rate_limited"),
    (None, None, "名字不能只用一个", "batch_too_large"),  # too many orders of one buyer_nick (doubt-buyer-nick)
    (None, None, "时间戳|timestamp", "clock_skew"),
    (None, None, "sid is not|sid不存在", "unknown_sid"),
    (None, None, "验证失败|签名|app auth fail|appkey|appsecret|权限不足|动态口令|ip限制", "auth_failed"),
    (None, None, "不是自有平台|所属的平台", "shop_not_own_platform"),
    (None, None, "店铺", "unknown_shop"),
    (None, None, "仓库", "unknown_warehouse"),
    (None, None, "条数上限|超过.*上限", "batch_too_large"),
    (None, None, "商家编码.*不存在", "unknown_merchant_code"),
    (None, None, "(数量|价格|单价).*不一致", "line_changed"),
    (None, None, "已付金额|应收|COD金额|cod_amount", "amounts_inconsistent"),
    (None, None, "原始单.*不存在|原始订单.*不存在|退换单", "refund_rejected"),
    (
        None,
        None,
        r"must not be null|must be (less|greater) than|为空|Data too long|Out of range value|长度|可选值|"
        r"非法|不合法|Unparseable date|argument type mismatch|For input string|取值无效|参数值无效|格式错误|"
        r"不是有效的数字|超出范围|状态.*不一致|不符|手机|电话号码",
        "field_refused",
    ),
    (EDITION_ULTIMATE, "1", "参数|argument", "business"),
    (EDITION_ULTIMATE, "1", None, "auth_failed"),
    (EDITION_ULTIMATE, "3", None, "auth_failed"),
    (EDITION_ULTIMATE, "6", None, "auth_failed"),
    (EDITION_ULTIMATE, "4", None, "http_5xx"),  # WDT's database errors
    (EDITION_ULTIMATE, "5", None, "http_5xx"),
    (EDITION_ULTIMATE, "99", None, "http_5xx"),
)


def classify(edition: str, wdt_code: str | None, wdt_message: str) -> str:
    for rule_edition, rule_code, pattern, reason in RULES:
        if rule_edition not in (None, edition) or rule_code not in (None, wdt_code):
            continue
        if pattern is None or re.search(pattern, wdt_message, re.IGNORECASE):
            return reason
    return "business"


class WdtError(Exception):
    """A failed WDT call or a refused item: our reason `code` and its `params` (WDT's own text is `detail`).
    Nothing here ever holds the appsecret."""

    def __init__(self, code: str, *, wdt_code: str | None = None, wdt_message: str = "", **context: str):
        reason = REASONS[code]
        self.code = code
        self.transient = reason.transient
        self.item_level = reason.item_level
        self.field = reason.field
        self.wdt_code = wdt_code
        self.wdt_message = wdt_message
        self.params = {**context, "detail": wdt_message or code}
        # A call made of several (batches, narrowing) that failed part way: what WDT had answered by then.
        self.partial_results: dict = {}
        super().__init__(f"{code}: {render(code, self.params)}")


class WdtTransientError(WdtError):
    """Worth retrying later: the network, WDT's servers, its rate limit, the clock."""


class WdtPermanentError(WdtError):
    """Retrying the same thing will fail again until someone fixes the cause."""


class WdtUnsupported(WdtPermanentError):
    """This edition (or this customer's WDT) offers no way to do what was asked, e.g. the enterprise raw-trade query,
    a paid add-on (docs/wdt-protocol.md#doubt-raw-trade-query)."""

    def __init__(self, what: str):
        super().__init__("query_unsupported", what=what)


def wdt_error(code: str, *, wdt_code: str | None = None, wdt_message: str = "", **context: str) -> WdtError:
    kind = WdtTransientError if REASONS[code].transient else WdtPermanentError
    return kind(code, wdt_code=wdt_code, wdt_message=wdt_message, **context)


def error_from_answer(edition: str, wdt_code: str | None, wdt_message: str, **context: str) -> WdtError:
    return wdt_error(classify(edition, wdt_code, wdt_message), wdt_code=wdt_code, wdt_message=wdt_message, **context)
