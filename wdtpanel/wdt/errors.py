"""What went wrong talking to WDT: one reason code of ours per failure, transient or permanent, in plain words."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .editions import EDITION_ULTIMATE


@dataclass(frozen=True)
class Reason:
    transient: bool
    field: str | None  # the config or order field the user should look at
    item_level: bool  # concerns one order (or line) of a batch, not the account or the call
    message: str  # Chinese / English; {detail} is WDT's own text, other names come from the call's context


REASONS: dict[str, Reason] = {
    "network": Reason(True, None, False,
                      "无法连接旺店通（{host}），请检查网络和接口地址；系统会自动重试。"
                      " / Cannot reach WDT at {host}; check the network and the API address. It will be retried."),
    "timeout": Reason(True, None, False,
                      "旺店通响应超时（{host}），系统会自动重试。 / WDT did not answer in time ({host}); it will be retried."),
    "http_5xx": Reason(True, None, False,
                       "旺店通服务暂时出错（{detail}），系统会自动重试。 / WDT had a server error ({detail}); it will be retried."),
    "rate_limited": Reason(True, None, False,
                           "调用旺店通太频繁被限流，系统会稍后自动重试。 / WDT's call rate limit was reached; it will be retried later."),
    "clock_skew": Reason(True, None, False,
                         "旺店通拒绝了请求时间戳，本服务器时钟可能不准，请校准服务器时间（开启 NTP）；系统会自动重试。"
                         " / WDT refused the request time; this server's clock may be off. Sync it (NTP); it will be retried."),
    "bad_response": Reason(True, None, False,
                           "旺店通返回了无法识别的内容（{detail}），请确认接口地址与版本（企业版/旗舰版）选择正确；系统会自动重试。"
                           " / WDT answered with something unreadable ({detail}); check the API address and the edition."
                           " It will be retried."),
    "auth_failed": Reason(False, "appsecret", False,
                          "旺店通拒绝了接口账号（{detail}）：请在 旺店通配置 中核对 appkey 和 appsecret"
                          "（旺店通 自助对接→应用管理）后重新填写。 / WDT refused the credentials ({detail}): check appkey and"
                          " appsecret (WDT 自助对接 → 应用管理) and enter them again."),
    "unknown_sid": Reason(False, "sid", False,
                          "卖家账号 sid 在旺店通中不存在：请核对 sid，以及所选的版本和环境（正式/测试）。"
                          " / The sid is unknown to WDT: check the sid and the chosen edition and environment."),
    "unknown_shop": Reason(False, "shop_no", False,
                           "店铺编号 {shop_no} 在旺店通中不存在或已停用，请在旺店通 设置→店铺 中核对后重新填写。"
                           " / Shop no. {shop_no} was not found in WDT or is disabled; check it under 设置→店铺 in WDT"
                           " and enter it again."),
    "shop_not_own_platform": Reason(False, "shop_no", False,
                                    "店铺 {shop_no} 的平台不是“自有平台/其他”，旺店通只接受这类店铺的推送：请在旺店通中使用"
                                    "平台为“其他（自有商城）”的店铺，并填写它的编号。 / Shop {shop_no} is not a self-built"
                                    " platform shop; WDT only accepts pushes to those. Use a shop whose platform is"
                                    " 其他 (self-built mall) and enter its number."),
    "unknown_warehouse": Reason(False, "warehouse_no", False,
                                "仓库编号 {warehouse_no} 在旺店通中不存在、已停用或接口账号无权访问，请在旺店通 设置→仓库 中"
                                "核对后重新填写。 / Warehouse no. {warehouse_no} was not found in WDT, is disabled or not"
                                " permitted for the API account; check it under 设置→仓库 in WDT and enter it again."),
    "batch_too_large": Reason(False, None, False,
                              "一次提交的条数超过了旺店通的上限（{detail}）。 / Too many records in one call ({detail})."),
    "unknown_merchant_code": Reason(False, "spec_no", True,
                                    "商家编码在旺店通中不存在（{detail}）。请在旺店通 货品→单品列表 中建立该商家编码，"
                                    "或在商城中改正后重推。 / A merchant code is unknown to WDT ({detail}); add it in WDT"
                                    " (货品→单品列表) or correct it in the mall, then re-push."),
    "line_changed": Reason(False, "num", True,
                           "已推送商品的数量或单价被改动（{detail}），旺店通不接受修改已推送的子订单；请在旺店通中处理该订单，"
                           "或为改动的商品使用新的子订单号。 / The quantity or price of an already pushed line changed"
                           " ({detail}); WDT does not accept that. Handle the order in WDT or use a new line id."),
    "business": Reason(False, None, True,
                       "旺店通拒绝了该请求：{detail}。请按提示改正后重推。 / WDT refused it: {detail}. Correct it and re-push."),
}

# WDT's answer -> our reason. First match wins. Columns: edition (None: both), WDT's code/status (None: any),
# a regular expression searched in WDT's message (None: any). Enterprise codes are not published, so enterprise
# answers are told apart by their message only.
RULES: tuple[tuple[str | None, str | None, str | None, str], ...] = (
    (EDITION_ULTIMATE, "7", None, "clock_skew"),
    (None, None, "超过每分钟最大", "rate_limited"),
    (None, None, "时间戳|timestamp", "clock_skew"),
    (None, None, "sid is not|sid不存在", "unknown_sid"),
    (None, None, "验证失败|签名|app auth fail|appkey|appsecret|权限不足|动态口令|ip限制", "auth_failed"),
    (None, None, "不是自有平台|所属的平台", "shop_not_own_platform"),
    (None, None, "店铺", "unknown_shop"),
    (None, None, "仓库", "unknown_warehouse"),
    (None, None, "条数上限|超过.*上限", "batch_too_large"),
    (None, None, "商家编码.*不存在", "unknown_merchant_code"),
    (None, None, "(数量|价格|单价).*不一致", "line_changed"),
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


class _Context(dict):
    """Values for a reason's message; a name the call did not supply shows as '?'."""

    def __missing__(self, key: str) -> str:
        return "?"


class WdtError(Exception):
    """A failed WDT call or a refused item. `user_message` is fit to show; nothing here ever holds the appsecret."""

    def __init__(self, code: str, *, wdt_code: str | None = None, wdt_message: str = "", **context: str):
        reason = REASONS[code]
        self.code = code
        self.transient = reason.transient
        self.item_level = reason.item_level
        self.field = reason.field
        self.wdt_code = wdt_code
        self.wdt_message = wdt_message
        self.user_message = reason.message.format_map(_Context(context, detail=wdt_message or code))
        super().__init__(f"{code}: {self.user_message}")


class WdtTransientError(WdtError):
    """Worth retrying later: the network, WDT's servers, its rate limit, the clock."""


class WdtPermanentError(WdtError):
    """Retrying the same thing will fail again until someone fixes the cause."""


def wdt_error(code: str, *, wdt_code: str | None = None, wdt_message: str = "", **context: str) -> WdtError:
    kind = WdtTransientError if REASONS[code].transient else WdtPermanentError
    return kind(code, wdt_code=wdt_code, wdt_message=wdt_message, **context)


def error_from_answer(edition: str, wdt_code: str | None, wdt_message: str, **context: str) -> WdtError:
    return wdt_error(classify(edition, wdt_code, wdt_message), wdt_code=wdt_code, wdt_message=wdt_message, **context)
