"""Every reason an order, a record or a call can fail for, and every notice the panel shows about them.

Stored data carries only a code and its parameters; the words are rendered at display time through Flask-Babel
(`render`), in the reader's language. Texts are Chinese source strings marked with N_ for extraction
(`pybabel extract -k N_`). This module imports nothing from Flask, so wdt/ may use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


def N_(text: str) -> str:
    """Marks a string for the message catalogue; it is translated when shown."""
    return text


@dataclass(frozen=True)
class Reason:
    code: str
    label: str  # a few words, for chips and filters
    message: str  # one sentence with %(name)s parameters
    hint: str = ""  # what to do about it
    transient: bool = False  # worth trying again later without anyone fixing anything
    item_level: bool = False  # concerns one order, line or record of a batch, not the account or the call
    field: str | None = None  # the config field (or order field) to look at


def _reasons(*reasons: Reason) -> dict[str, Reason]:
    return {reason.code: reason for reason in reasons}


CONFIG_HINT = N_("在 旺店通配置 中改正后点击“测试连接”，再重推。")

REASONS: dict[str, Reason] = _reasons(
    # --- talking to WDT: transient -----------------------------------------------------------------------
    Reason(
        "network",
        N_("旺店通无法连接"),
        N_("无法连接旺店通（%(host)s）。"),
        N_("请检查网络和接口地址；稍后重推。"),
        transient=True,
    ),
    Reason(
        "timeout",
        N_("旺店通响应超时"),
        N_("旺店通在规定时间内没有响应（%(host)s）。"),
        N_("稍后重推即可。"),
        transient=True,
    ),
    Reason(
        "http_5xx", N_("旺店通服务出错"), N_("旺店通服务暂时出错（%(detail)s）。"), N_("稍后重推即可。"), transient=True
    ),
    Reason(
        "rate_limited",
        N_("调用太频繁被限流"),
        N_("调用旺店通太频繁，被限流（%(detail)s）。"),
        N_("稍后重推即可。"),
        transient=True,
    ),
    Reason(
        "clock_skew",
        N_("服务器时间不准"),
        N_("旺店通拒绝了请求时间戳（%(detail)s）。"),
        N_("请校准本服务器的时间（开启 NTP）。"),
        transient=True,
    ),
    Reason(
        "bad_response",
        N_("旺店通返回了无法识别的内容"),
        N_("旺店通返回了无法识别的内容（%(detail)s）。"),
        N_("请确认接口地址与版本（企业版/旗舰版）选择正确。"),
        transient=True,
    ),
    # --- talking to WDT: the account --------------------------------------------------------------------
    Reason(
        "auth_failed",
        N_("接口账号错误"),
        N_("旺店通拒绝了接口账号（%(detail)s）。"),
        N_("请在 旺店通配置 中核对 appkey 和 appsecret（旺店通 自助对接 → 应用管理）后重新填写。"),
        field="appsecret",
    ),
    Reason(
        "unknown_sid",
        N_("sid 不存在"),
        N_("卖家账号 sid 在旺店通中不存在（%(detail)s）。"),
        N_("请核对 sid，以及所选的版本和环境（正式/测试）。"),
        field="sid",
    ),
    Reason(
        "unknown_shop",
        N_("店铺编号不存在"),
        N_("店铺编号 %(shop_no)s 在旺店通中不存在或已停用。"),
        N_("请在旺店通 设置 → 店铺 中核对后重新填写。"),
        field="shop_no",
    ),
    Reason(
        "shop_not_own_platform",
        N_("店铺不是自有平台"),
        N_("店铺 %(shop_no)s 的平台不是“自有平台/其他”，旺店通只接受这类店铺的推送。"),
        N_("请使用平台为“其他（自有商城）”的店铺，并填写它的编号。"),
        field="shop_no",
    ),
    Reason(
        "unknown_warehouse",
        N_("仓库编号不存在"),
        N_("仓库编号 %(warehouse_no)s 在旺店通中不存在、已停用或接口账号无权访问。"),
        N_("请在旺店通 设置 → 仓库 中核对后重新填写。"),
        field="warehouse_no",
    ),
    Reason("batch_too_large", N_("单次条数超过上限"), N_("一次提交的条数超过了旺店通的上限（%(detail)s）。")),
    # --- talking to WDT: one order or line ----------------------------------------------------------------
    Reason(
        "unknown_merchant_code",
        N_("商家编码在旺店通中不存在"),
        N_("商家编码在旺店通中不存在（%(detail)s）。"),
        N_("在旺店通 货品 → 单品列表 中建立该商家编码，或在商城中改正后重推。"),
        item_level=True,
        field="spec_no",  # WDT's name for the line's merchant code (商家编码)
    ),
    Reason(
        "line_changed",
        N_("商品数量或单价已改变"),
        N_("已推送商品的数量或单价被改动（%(detail)s），旺店通不接受修改已推送的子订单。"),
        N_("请在旺店通中处理该订单。"),
        item_level=True,
        field="num",
    ),
    Reason(
        "refund_rejected",
        N_("退款单被拒绝"),
        N_("旺店通拒绝了退款单（%(detail)s）。"),
        N_("请核对退款信息后重推。"),
        item_level=True,
    ),
    Reason(
        "field_refused",
        N_("字段不符合旺店通要求"),
        N_("旺店通拒绝了订单中的字段：缺失、过长或取值不合法（%(detail)s）。"),
        N_("请在商城中改正该字段后重推。"),
        item_level=True,
    ),
    Reason(
        "amounts_inconsistent",
        N_("金额核对不一致"),
        N_("旺店通核对订单金额不一致（%(detail)s）。"),
        N_("请核对订单的已付金额、优惠和邮费后重推。"),
        item_level=True,
    ),
    Reason(
        "query_unsupported",
        N_("旺店通不支持该查询"),
        N_("当前旺店通版本无法查询：%(what)s。"),
        N_("无需处理；该订单的结果将在下次推送时确认。"),
    ),
    Reason(
        "business",
        N_("旺店通拒绝了订单"),
        N_("旺店通拒绝了该请求：%(detail)s"),
        N_("请按旺店通的提示改正后重推。"),
        item_level=True,
    ),
    # --- found before WDT is asked ----------------------------------------------------------------------
    Reason("config_incomplete", N_("旺店通配置不完整"), N_("旺店通配置不完整（缺少 %(missing)s）。"), CONFIG_HINT),
    Reason(
        "missing_merchant_code",
        N_("缺少商家编码"),
        N_("第 %(line)s 行「%(goods)s」的规格「%(spec)s」没有商家编码。"),
        N_("请在商城中为该规格填写商家编码后重推。"),
        item_level=True,
    ),
    Reason(
        "internal_error",
        N_("内部错误"),
        N_("生成推送内容时出错（%(detail)s）。"),
        N_("请把订单号告诉技术支持；修正后重推。"),
        item_level=True,
    ),
    # --- the answer was lost ------------------------------------------------------------------------------
    Reason(
        "unconfirmed",
        N_("旺店通未确认"),
        N_("推送时没有收到旺店通的答复（%(detail)s），旺店通也无法查询该订单是否已收到。"),
        N_("下次推送会确认结果；重推不会产生重复订单。"),
        transient=True,
    ),
    Reason("historical", N_("历史订单不能重推"), N_("该订单在开启旺店通对接之前创建，不会推送，也不能重推。")),
    # --- records pulled back from WDT --------------------------------------------------------------------
    Reason(
        "unknown_order",
        N_("商城中没有该订单"),
        N_("商城中没有订单 %(tid)s。"),
        N_("订单到达后会自动补发；也可以在 同步状态 中点击“重新同步”。"),
        item_level=True,
    ),
    Reason(
        "unmapped_carrier",
        N_("物流公司未对应"),
        N_("物流公司 %(logistics_name)s（%(logistics_code)s）没有对应的商城物流编码。"),
        N_("在 旺店通配置 的物流公司中勾选它并填写商城物流编码；下次同步会自动补发。"),
        item_level=True,
    ),
    Reason(
        "unstorable_record",
        N_("旺店通的记录无法保存"),
        N_("旺店通发来的记录含有无法保存的值（%(detail)s）。"),
        N_("请在旺店通中核对并改正该记录；改正后的记录会在下次同步时保存。"),
        item_level=True,
    ),
    Reason(
        "unknown_spec",
        N_("商城中没有该规格"),
        N_("商城中没有商家编码为 %(spec_no)s 的规格。"),
        N_("商城同步该商品后会自动补发。"),
        item_level=True,
    ),
)


def reason(code: str | None) -> Reason:
    """The reason for a stored code; an unknown code (from a newer release) reads as a WDT refusal."""
    return REASONS.get(code or "", REASONS["business"])


# Texts that are not failures: outcomes of checks and actions, shown with parameters like reasons.
NOTICES: dict[str, str] = {
    "credentials_ok": N_("接口账号验证通过。"),
    "shop_ok": N_("店铺 %(shop_name)s（%(shop_no)s）存在，平台为自有平台。"),
    "warehouse_ok": N_("仓库 %(warehouse_name)s（%(warehouse_no)s）存在。"),
    "not_checked": N_("未检查：请先解决接口账号一项的问题。"),
    "appsecret_required": N_("请填写 appsecret。"),
    "url_not_public": N_("地址 %(host)s 指向本机或内网，不允许使用：请填写公网地址。"),
}


class _Params(dict):
    """A parameter the stored record lacks shows as '?' instead of failing the page."""

    def __missing__(self, key: str) -> str:
        return "?"


def render(code: str | None, params: Mapping | None, gettext: Callable[[str], str] = N_) -> str:
    """The sentence for a reason or notice code, in the language `gettext` translates to."""
    text = NOTICES.get(code or "") or reason(code).message
    return gettext(text) % _Params(params or {})
