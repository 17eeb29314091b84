"""The checks WDT documents, applied to what a caller sent, with WDT's wording. Each problem names its rule: an anchor
of docs/wdt-protocol.md (`f-...` for a field row, `r-...` for a rule). Pure functions: no state, no Flask."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from ..wdt.editions import EDITION_ENTERPRISE, EDITION_ULTIMATE
from ..wdt.fields import (
    BOOL,
    DATETIME,
    DECIMAL,
    ENTERPRISE_TRADE,
    ENTERPRISE_TRADE_LINE,
    INT,
    LIST,
    REQUIRED,
    SENT,
    STRING,
    ULTIMATE_TRADE,
    ULTIMATE_TRADE_LINE,
    Record,
)
from ..wdt.payloads import BEYOND_BMP, FOUR_PLACES, NO_TIME, SHANGHAI, WDT_TIME_FORMAT

# What a problem does in WDT: the call (or that trade) is refused; the trade is stored but fails at 递交; or it is
# stored with wrong values (nobody is told).
REFUSED, FAILS_AT_SUBMIT, STORED_WRONG = "refused", "fails_at_submit", "stored_wrong"

# A trade_time later than WDT's clock is refused; allow what two NTP-synced clocks may differ by.
FUTURE_TOLERANCE = timedelta(minutes=5)
FREE_TEXT = ("buyer_nick", "receiver_name", "receiver_address", "buyer_message")
DECIMAL_DIGITS = 15  # decimal(19,4): 15 digits before the point
REFUNDED_STATUS = 80
# [?] docs/wdt-protocol.md#r-ent-line-refund: WDT's FAQ example of an inconsistent line:
# refund_status > 2, status != 80.
ENTERPRISE_REFUND_STATUS_NEEDING_80 = 2
MOBILE = re.compile(r"\d{11}")

# [?] docs/wdt-protocol.md#wording: ultimate field messages are the Java validation texts WDT's error guide shows;
# the enterprise wording of field refusals is not published, these are ours.
WORDING = {
    EDITION_ULTIMATE: {
        "missing": "{name}must not be null",
        "empty": "{name}不能为空",
        "long": "Data truncation: Data too long for column '{name}' at row 1",
        "number": 'For input string: "{value}"',
        "kind": "argument type mismatch",
        "time": "Unparseable date: {value}",
        "above": "{name}must be less than or equal to {limit}",
        "below": "{name}must be greater than or equal to {limit}",
        "value": "{name}不在可选值范围内",
        "range": "Out of range value for column '{name}' at row 1",
    },
    EDITION_ENTERPRISE: {
        "missing": "{name}不能为空",
        "empty": "{name}不能为空",
        "long": "{name}长度不能超过{limit}",
        "number": "{name}不是有效的数字",
        "kind": "{name}格式错误",
        "time": "{name}时间格式错误",
        "above": "{name}取值无效",
        "below": "{name}取值无效",
        "value": "{name}取值无效",
        "range": "{name}超出范围",
    },
}


class Refusal(Exception):
    """WDT refuses the whole call: `code` is the enterprise code / ultimate status it answers with."""

    def __init__(self, message: str, code: int = 100):
        super().__init__(message)
        self.message, self.code = message, code


@dataclass(frozen=True)
class Problem:
    rule: str  # an anchor of docs/wdt-protocol.md
    message: str  # what WDT answers (or shows at 递交)
    effect: str = REFUSED


def _words(edition: str, kind: str, **values) -> str:
    return WORDING[edition][kind].format(**values)


def blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def number(value) -> Decimal | None:
    """WDT takes numbers as JSON numbers or numeric strings."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        parsed = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return parsed if parsed.is_finite() else None


def integer(value) -> int | None:
    parsed = number(value)
    return int(parsed) if parsed is not None and parsed == parsed.to_integral_value() else None


def parse_time(text) -> datetime | None:
    try:
        return datetime.strptime(str(text), WDT_TIME_FORMAT).replace(tzinfo=SHANGHAI)
    except ValueError:
        return None


def check_fields(record: Record, data: dict, edition: str) -> list[Problem]:
    """Required flags, types, lengths (in characters), enumerations and number formats of one object."""
    if not isinstance(data, dict):
        return [Problem(f"f-{record.anchor}", _words(edition, "kind", name=record.anchor))]
    problems = []
    for field in record.fields:
        rule, name, value = record.field_anchor(field.name), field.name, data.get(field.name)
        if field.required in (REQUIRED, SENT) and (
            field.name not in data or (value is None and field.required == REQUIRED)
        ):
            problems.append(Problem(rule, _words(edition, "missing", name=name)))
            continue
        if field.required == REQUIRED and (blank(value) or value == []):
            problems.append(Problem(rule, _words(edition, "empty", name=name)))
            continue
        if blank(value):
            continue
        problem = _value_problem(field, value, edition)
        if problem:
            problems.append(Problem(rule, *problem))
    return problems


def _value_problem(field, value, edition: str) -> tuple[str, str] | None:
    """(message, effect) when the value is not what the field takes."""
    name, kind = field.name, field.kind
    if (
        (kind == STRING and (not isinstance(value, (str, int)) or isinstance(value, bool)))
        or (kind == BOOL and not isinstance(value, bool))
        or (kind == LIST and not isinstance(value, list))
    ):
        return _words(edition, "kind", name=name), REFUSED
    if kind == STRING and field.length and len(str(value)) > field.length:
        return _words(edition, "long", name=name, limit=field.length), REFUSED
    if kind == DATETIME and (not isinstance(value, str) or (value != NO_TIME and parse_time(value) is None)):
        return _words(edition, "time", name=name, value=value), REFUSED
    if kind == DECIMAL:
        parsed = number(value)
        if parsed is None:
            return _words(edition, "number", name=name, value=value), REFUSED
        if abs(parsed) >= Decimal(10) ** DECIMAL_DIGITS:
            return _words(edition, "range", name=name), REFUSED
        if parsed != parsed.quantize(FOUR_PLACES):
            return f"{name} 小数超过4位，按4位保存", STORED_WRONG
    if kind == INT:
        code = integer(value)
        if code is None:
            return _words(edition, "number", name=name, value=value), REFUSED
        return _code_problem(field, code, edition)
    return None


def _code_problem(field, code: int, edition: str) -> tuple[str, str] | None:
    if field.values is not None:
        if code in field.values:
            return None
        lowest, highest = min(field.values.codes), max(field.values.codes)
    elif field.span is not None:
        lowest, highest = field.span
        if lowest <= code <= highest:
            return None
    else:
        return None
    if code > highest:
        return _words(edition, "above", name=field.name, limit=highest), REFUSED
    if code < lowest:
        return _words(edition, "below", name=field.name, limit=lowest), REFUSED
    return _words(edition, "value", name=field.name), REFUSED


# --- a trade: its fields and the rules that need several of them -------------------------------------------


def trade_problems(edition: str, trade: dict, lines: list[dict], now: datetime) -> list[Problem]:
    """Everything wrong with one trade that can be told from the trade itself (not from what WDT holds)."""
    head_record, line_record = (
        (ENTERPRISE_TRADE, ENTERPRISE_TRADE_LINE)
        if edition == EDITION_ENTERPRISE
        else (ULTIMATE_TRADE, ULTIMATE_TRADE_LINE)
    )
    head = {key: value for key, value in trade.items() if key != "order_list"}
    problems = check_fields(
        head_record, {**head, "order_list": lines} if edition == EDITION_ENTERPRISE else head, edition
    )
    for line in lines:
        problems += check_fields(line_record, line, edition)
    problems += _shared_rules(trade, now)
    rules = _enterprise_rules if edition == EDITION_ENTERPRISE else _ultimate_rules
    problems += rules(trade, lines)
    tid = trade.get("tid")
    return [
        Problem(
            p.rule, p.message if tid is None or "原始单号" in p.message else f"{p.message},原始单号为：{tid}", p.effect
        )
        for p in problems
    ]


def _shared_rules(trade: dict, now: datetime) -> list[Problem]:
    problems = []
    trade_time = parse_time(trade.get("trade_time"))
    if trade_time is not None and trade_time > now + FUTURE_TOLERANCE:
        problems.append(Problem("r-trade-time", "下单时间非法"))
    if any(BEYOND_BMP.search(str(trade.get(name) or "")) for name in FREE_TEXT):
        problems.append(Problem("r-free-text", "昵称/收件人姓名/收件人地址/买家留言包含非法字符或为空"))
    return problems


def _sum(lines: list[dict], amount) -> Decimal:
    return sum((amount(line) for line in lines), Decimal(0))


def _amount(data: dict, name: str) -> Decimal:
    return number(data.get(name)) or Decimal(0)


def _line_net(line: dict) -> Decimal:
    """price × num + adjust_amount − discount: WDT's total_amount of a line."""
    return _amount(line, "price") * _amount(line, "num") + _amount(line, "adjust_amount") - _amount(line, "discount")


def _enterprise_rules(trade: dict, lines: list[dict]) -> list[Problem]:
    problems = []
    no_area = any(blank(trade.get(part)) for part in ("receiver_province", "receiver_city", "receiver_district"))
    if no_area and len(str(trade.get("receiver_address") or "").split()) < 4:  # 省 市 区 详细地址, space-separated
        problems.append(Problem("r-ent-address", "收件人省市区不能为空，且详细地址无法按空格解析出省市区"))
    for line in lines:
        if blank(line.get("goods_no")) and blank(line.get("spec_no")):
            problems.append(Problem("r-ent-line-codes", "goods_no和spec_no不能同时为空"))
        refund_status, status = integer(line.get("refund_status")), integer(line.get("status"))
        if (
            refund_status is not None
            and refund_status > ENTERPRISE_REFUND_STATUS_NEEDING_80
            and status != REFUNDED_STATUS
        ):
            problems.append(Problem("r-ent-line-refund", f"子订单{line.get('oid')}退款状态与子订单状态不一致"))
    receivable = _sum(lines, lambda line: _line_net(line) - _amount(line, "share_discount")) + _amount(
        trade, "post_amount"
    )
    if receivable < 0:
        problems.append(Problem("r-ent-paid", "应收不能小于0"))
    elif enterprise_paid_checked(trade) and _amount(trade, "paid").quantize(FOUR_PLACES) != receivable.quantize(
        FOUR_PLACES
    ):
        problems.append(Problem("r-ent-paid", "已付金额不正确 paid"))
    if integer(trade.get("delivery_term")) == 2:
        cod = _amount(trade, "cod_amount")
        if integer(trade.get("trade_status")) == 30 and cod == 0:
            problems.append(Problem("r-ent-cod", "货到付款订单COD金额不能为0"))
        if cod > receivable:
            problems.append(Problem("r-ent-cod", "COD金额cod_amount大于应收paid"))
    return problems


def enterprise_paid_checked(trade: dict) -> bool:
    """[?] docs/wdt-protocol.md#r-ent-paid: WDT checks `paid` against the lines; we read the check as applying to
    orders paid in full before shipment (an unpaid or COD order has paid nothing yet)."""
    return integer(trade.get("pay_status")) == 2 and integer(trade.get("delivery_term")) == 1


def _ultimate_rules(trade: dict, lines: list[dict]) -> list[Problem]:
    problems = [] if lines else [Problem("r-lines", "rawTradeOrderList不能为空")]
    ids = ("receiver_province_no", "receiver_city_no", "receiver_district_no")
    if blank(trade.get("receiver_area")) and any(blank(trade.get(name)) for name in ids):
        problems.append(Problem("r-ult-receiver-area", "receiver_area不能为空"))
    mobile = str(trade.get("receiver_mobile") or "")
    if "*" in mobile or "*" in str(trade.get("receiver_telno") or ""):
        problems.append(Problem("r-phone-asterisk", "电话号码不能包含*"))
    elif mobile and not MOBILE.fullmatch(mobile):
        problems.append(Problem("r-ult-mobile", "收件人手机必须为11位手机号码"))
    if integer(trade.get("order_count")) not in (None, len(lines)):
        problems.append(Problem("r-ult-counts", "order_count 与子单个数不符"))
    goods_count = number(trade.get("goods_count"))
    if goods_count is not None and goods_count != _sum(lines, lambda line: _amount(line, "num")):
        problems.append(Problem("r-ult-counts", "goods_count 与子单数量之和不符"))
    for line in lines:
        num = number(line.get("num"))
        if num is not None and num != num.to_integral_value():
            problems.append(Problem("r-ult-num", "数量不合法"))
        total = number(line.get("total_amount"))
        if total is not None and total != _line_net(line):
            problems.append(
                Problem("r-ult-amounts", f"子订单{line.get('oid')} total_amount 应为 {_line_net(line)}", STORED_WRONG)
            )
    receivable, discount = number(trade.get("receivable")), number(trade.get("discount"))
    expected_receivable = _sum(lines, lambda line: _amount(line, "total_amount") - _amount(line, "share_discount"))
    if receivable is not None and receivable != expected_receivable:
        problems.append(Problem("r-ult-amounts", f"receivable 应为 {expected_receivable}", STORED_WRONG))
    expected_discount = _sum(lines, lambda line: _amount(line, "discount"))
    if discount is not None and discount != expected_discount:
        problems.append(Problem("r-ult-amounts", f"discount 应为 {expected_discount}", STORED_WRONG))
    return problems
