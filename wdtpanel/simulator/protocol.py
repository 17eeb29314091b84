"""WDT's two protocols as the simulator serves them: enterprise scripts under /openapi2/, the ultimate gateway at
/openapi. Each checks the caller like WDT does, checks what it sent against docs/wdt-protocol.md (rules.py), turns
the call into the edition-neutral operations of SimulatorState and answers in that edition's envelope."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from flask import Blueprint, Response, abort, current_app, jsonify, request

from ..wdt.editions import (
    BATCH_LIMITS,
    EDITION_ENTERPRISE,
    EDITION_ULTIMATE,
    ENTERPRISE_SAME_BUYER_PER_CALL,
    RATE_LIMIT_ANSWERS,
)
from ..wdt.fields import (
    ENTERPRISE_GOODS,
    ENTERPRISE_LOGISTICS_ACK,
    ENTERPRISE_LOGISTICS_QUERY,
    ENTERPRISE_RAW_TRADE_QUERY,
    ENTERPRISE_STOCK_ACK,
    ENTERPRISE_STOCK_QUERY,
    ENTERPRISE_TRADE_PUSH,
    ULTIMATE_GOODS,
    ULTIMATE_LOGISTICS_ACK,
    ULTIMATE_LOGISTICS_QUERY,
    ULTIMATE_RAW_TRADE_SEARCH,
    ULTIMATE_STOCK_SYNC_INFO,
    ULTIMATE_STOCK_WAIT_LIST,
    Record,
)
from ..wdt.payloads import OWN_PLATFORM_ID, decimal_of, money
from ..wdt.signing import ULTIMATE_EPOCH, enterprise_sign, split_ultimate_secret, ultimate_sign
from .faults import AFTER_STORE, Faults, Quota
from .rules import REFUSED, Problem, Refusal, blank, check_fields, integer, parse_time
from .state import SimulatorState

bp = Blueprint("wdt_protocol", __name__)
Verified = TypeVar("Verified")

ENTERPRISE_CLOCK_WINDOW = 300  # seconds, docs/wdt-protocol.md#signing
ULTIMATE_CLOCK_WINDOW = 120
ULTIMATE_MAX_PAGE = 1000
ULTIMATE_REFUND_ROWS = 100  # RawRefund.upload rows per call (upload2's advice), docs/wdt-protocol.md#batch-limits
QUERY_WINDOW = timedelta(days=30)
# [?] docs/wdt-protocol.md#doubt-buyer-nick: the Y edition's answer for too many orders of one buyer_nick
SAME_BUYER_ANSWER = (99, "buyer_nick 名字不能只用一个，不同客户必须用不同的名字")
PLATFORM_MISMATCH = (4304, "shop_no 对应的店铺所属的平台 与 传入platform_id 不一致 ")
ENTERPRISE, ULTIMATE = BATCH_LIMITS[EDITION_ENTERPRISE], BATCH_LIMITS[EDITION_ULTIMATE]


def simulator() -> SimulatorState:
    return current_app.extensions["wdt_simulator"]


def faults() -> Faults:
    return current_app.extensions["wdt_simulator_faults"]


def quota() -> Quota:
    return current_app.extensions["wdt_simulator_quota"]


def _envelope_key(edition: str) -> str:
    return "code" if edition == EDITION_ENTERPRISE else "status"


def _refused(edition: str, refusal: Refusal) -> Response:
    return jsonify({_envelope_key(edition): refusal.code, "message": refusal.message})


def _fault_answer(edition: str, kind: str) -> Response:
    """The failure this call was picked for (one of faults.KINDS)."""
    settings = faults().settings
    if kind in ("timeout", "timeout_after_store"):  # the answer comes too late
        time.sleep(settings.timeout_sleep_s)
        return Response("Gateway Timeout", 504)
    if kind in ("5xx", "5xx_after_store"):
        return Response("Bad Gateway", 502)
    if kind == "rate_limit":
        return _refused(edition, Refusal(RATE_LIMIT_ANSWERS[edition][1], RATE_LIMIT_ANSWERS[edition][0]))
    if kind == "bad_json":
        return Response("<html><body>系统维护中</body></html>", 200, mimetype="text/html")
    raise ValueError(f"unknown fault {kind!r}")


def _answer(edition: str, name: str, verify: Callable[[], Verified], handle: Callable[[Verified], dict]) -> Response:
    """Latency, an injected failure before the call, the caller's checks, the quota, the call, and an injected
    failure that loses the answer of a call carried out."""
    if faults().settings.latency_ms:
        time.sleep(faults().settings.latency_ms / 1000)
    kind = faults().draw()
    if kind is not None and kind not in AFTER_STORE:
        return _fault_answer(edition, kind)
    try:
        verified = verify()
        if not quota().admit(simulator().account.appkey):
            simulator().violation("r-quota", f"{name}: {quota().calls_per_minute} calls per minute", edition=edition)
            raise Refusal(RATE_LIMIT_ANSWERS[edition][1], RATE_LIMIT_ANSWERS[edition][0])
        answer = jsonify({_envelope_key(edition): 0, "message": "", **handle(verified)})
    except Refusal as refusal:
        answer = _refused(edition, refusal)
    return _fault_answer(edition, kind) if kind is not None else answer


def _clock_ok(timestamp: str | None, epoch: int, window: int) -> bool:
    try:
        return abs(int(timestamp or "") + epoch - time.time()) <= window
    except ValueError:
        return False


def _refuse(problems: list[Problem], edition: str, **where: str) -> None:
    """Record what the caller broke; refuse the call with WDT's answer to the first refused problem."""
    if problems:
        with simulator().changing():
            simulator().record(problems, edition=edition, **where)
    refused = next((problem for problem in problems if problem.effect == REFUSED), None)
    if refused is not None:
        raise Refusal(refused.message)


def _checked(record: Record, data, edition: str, **where: str):
    _refuse(check_fields(record, data, edition), edition, **where)
    return data


def _int(value) -> int:
    """An integer field _checked let through (it refuses one missing or not a whole number)."""
    parsed = integer(value)
    if parsed is None:
        raise ValueError(f"unchecked integer field: {value!r}")
    return parsed


def _within(items, limit: int, name: str, edition: str) -> list:
    if isinstance(items, list) and len(items) > limit:
        _refuse([Problem("r-batch-size", f"{name} 条数超过上限 {limit}")], edition)
    return items


def _dicts(items, name: str) -> list[dict]:
    """A list of objects, as every list WDT takes is (r-lines)."""
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        simulator().violation("r-lines", f"{name} is not a list of objects")
        raise Refusal(f"{name}订单列表结构异常")
    return items


def _copied(row: dict, *keys: str) -> dict:
    """The stored row's values that WDT answers under the same keys."""
    return {key: row[key] for key in keys}


# --- enterprise (openapi2) ---


def _verify_enterprise() -> dict:
    form = request.form.to_dict()
    account = simulator().account
    if form.get("sid") != account.sid:
        raise Refusal("sid不存在", 1)
    if form.get("appkey") != account.appkey:
        raise Refusal("appkey不存在或已停用", 1)
    if form.get("sign") != enterprise_sign(form, account.appsecret):
        raise Refusal("签名错误", 1)
    if not _clock_ok(form.get("timestamp"), 0, ENTERPRISE_CLOCK_WINDOW):
        raise Refusal(f"timestamp 超出允许的误差范围({ENTERPRISE_CLOCK_WINDOW}秒)", 1)
    return form


def _json_param(form: dict, name: str):
    try:
        return json.loads(form[name])
    except (KeyError, ValueError):
        raise Refusal(f"{name} json格式错误,无法解析") from None


def _enterprise_trade_push(form: dict) -> dict:
    trades = _json_param(form, "trade_list")
    _checked(ENTERPRISE_TRADE_PUSH, {**form, "trade_list": trades}, EDITION_ENTERPRISE)
    trades = _dicts(_within(trades, ENTERPRISE.trades, "trade_list", EDITION_ENTERPRISE), "trade_list")
    if not trades:
        raise Refusal("trade_list订单列表为空")
    buyers = Counter(str(trade.get("buyer_nick")) for trade in trades)
    if buyers and max(buyers.values()) > ENTERPRISE_SAME_BUYER_PER_CALL:
        simulator().violation("r-same-buyer", SAME_BUYER_ANSWER[1], edition=EDITION_ENTERPRISE)
        raise Refusal(SAME_BUYER_ANSWER[1], SAME_BUYER_ANSWER[0])
    lines = [{**trade, "lines": _dicts(trade.get("order_list") or [], "order_list")} for trade in trades]
    new, changed, _ = simulator().push_trades(
        form["shop_no"], lines, EDITION_ENTERPRISE, check_codes=form.get("switch") == "1", all_or_nothing=True
    )
    return {"new_count": new, "chg_count": changed}


def _enterprise_sync_query(form: dict) -> dict:
    _checked(ENTERPRISE_LOGISTICS_QUERY, form, EDITION_ENTERPRISE)
    limit = min(max(_int(form["limit"]), 1), 100)  # "limit > 100 is taken as 100"
    records = simulator().pending_sync(form.get("shop_no", ""), limit)
    trades = [
        {
            "rec_id": r["rec_id"],
            "shop_no": r["shop_no"],
            "tid": r["tid"],
            "logistics_type": r["logistics_type"],
            "logistics_no": r["logistics_no"],
            "delivery_term": r["delivery_term"],
            "consign_time": r["consign_time"],
            "oids": r["oids"],
            "is_part_sync": r["is_part_sync"],
            "platform_id": OWN_PLATFORM_ID,
            "trade_id": r["trade_id"],
            "logistics_code_erp": r["logistics_code"],
            "logistics_name_erp": r["logistics_name"],
            "logistics_name": r["logistics_name"],
        }
        for r in records
    ]
    return {"total_count": len(trades), "trades": trades}


def _enterprise_sync_ack(form: dict) -> dict:
    items = _dicts(
        _within(_json_param(form, "logistics_list"), ENTERPRISE.acks, "logistics_list", EDITION_ENTERPRISE),
        "logistics_list",
    )
    for item in items:
        _checked(ENTERPRISE_LOGISTICS_ACK, item, EDITION_ENTERPRISE)
    acks = [(str(item.get("rec_id")), str(item.get("status")) == "0", str(item.get("message") or "")) for item in items]
    return {"errors": [{"rec_id": rec_id, "error": error} for rec_id, error in simulator().ack(acks)]}


def _enterprise_goods_push(form: dict) -> dict:
    info = _json_param(form, "api_goods_info")
    if not isinstance(info, dict):
        raise Refusal("api_goods_info json格式错误,无法解析")
    if integer(info.get("platform_id")) != OWN_PLATFORM_ID:
        simulator().violation("r-goods-platform", PLATFORM_MISMATCH[1], edition=EDITION_ENTERPRISE)
        raise Refusal(PLATFORM_MISMATCH[1], PLATFORM_MISMATCH[0])
    _checked(ENTERPRISE_GOODS, info, EDITION_ENTERPRISE)
    lines = _dicts(_within(info["goods_list"], ENTERPRISE.goods, "goods_list", EDITION_ENTERPRISE), "goods_list")
    new, changed, errors = simulator().push_platform_goods(
        str(info["shop_no"]), lines, EDITION_ENTERPRISE, all_or_nothing=False
    )
    return {
        "new_count": new,
        "chg_count": changed,
        "errors": [{"goods_id": goods_id, "spec_id": spec_id, "error": error} for goods_id, spec_id, error in errors],
    }


def _enterprise_refund_push(form: dict) -> dict:
    refunds = _dicts(
        _within(_json_param(form, "api_refund_list"), ENTERPRISE.refunds, "api_refund_list", EDITION_ENTERPRISE),
        "api_refund_list",
    )
    shops = {refund.get("shop_no") for refund in refunds}
    if len(shops) != 1:
        raise Refusal("退款单须属于同一店铺")
    refunds = [{**refund, "lines": _dicts(refund.get("order_list") or [], "order_list")} for refund in refunds]
    new, changed = simulator().push_refunds(str(shops.pop()), refunds, EDITION_ENTERPRISE)
    return {"new_count": new, "chg_count": changed}


def _enterprise_stock_query(form: dict) -> dict:
    _checked(ENTERPRISE_STOCK_QUERY, form, EDITION_ENTERPRISE)
    rows = simulator().stock_changes(form["shop_no"], _int(form["limit"]))
    changes = [
        {
            "rec_id": str(row["rec_id"]),
            **_copied(row, "shop_id", "shop_no"),
            "platform_id": OWN_PLATFORM_ID,
            **_copied(row, "goods_id", "spec_id", "goods_no", "spec_no", "sync_stock", "stock_change_count"),
        }
        for row in rows
    ]
    return {"current_count": len(changes), "stock_change_list": changes}


def _enterprise_stock_ack(form: dict) -> dict:
    rows = _dicts(_json_param(form, "stock_sync_list"), "stock_sync_list")
    if not rows:
        raise Refusal("stock_sync_list不能为空")
    for row in rows:
        _checked(ENTERPRISE_STOCK_ACK, row, EDITION_ENTERPRISE, key=str(row.get("rec_id")))
    errors = [
        (row["rec_id"], error)
        for row in rows
        if (error := simulator().stock_synced(row["rec_id"], row["sync_stock"], row["stock_change_count"], True))
    ]
    return {"errors": [{"rec_id": rec_id, "error": error} for rec_id, error in errors]}


def _enterprise_raw_trades(form: dict) -> dict:
    _checked(ENTERPRISE_RAW_TRADE_QUERY, form, EDITION_ENTERPRISE)
    tids = [tid for tid in str(form.get("tid") or "").split(",") if tid]
    if len(tids) > ENTERPRISE.raw_trade_query:
        raise Refusal(f"原始单号最多支持查询{ENTERPRISE.raw_trade_query}个")
    if not tids:
        _query_window(form, EDITION_ENTERPRISE)
    rows = _modified_within(simulator().raw_trades(form.get("shop_no"), tids or None), form, bool(tids))
    return {
        "total_count": len(rows),
        "trade_list": [
            {
                key: row.get(key)
                for key in (
                    "tid",
                    "shop_no",
                    "platform_id",
                    "trade_status",
                    "process_status",
                    "pay_status",
                    "delivery_term",
                    "receiver_name",
                    "bad_reason",
                )
            }
            | {"goods_list": row["trade_orders"]}
            for row in rows
        ],
    }


def _query_window(params: dict, edition: str) -> None:
    """Queries without ids need a modified-time window of at most 30 days."""
    start, end = parse_time(params.get("start_time")), parse_time(params.get("end_time"))
    if start is None or end is None:
        _refuse([Problem("r-query-window", "参数中必须包含起止时间")], edition)
    elif end - start > QUERY_WINDOW:
        _refuse([Problem("r-query-window", "您的查询时间过宽,查询时间不能大于30天")], edition)


def _modified_within(rows: list[dict], params: dict, by_id: bool) -> list[dict]:
    if by_id:
        return rows
    return [row for row in rows if params["start_time"] <= row["pushed_at"] <= params["end_time"]]


ENTERPRISE_SCRIPTS = {
    "trade_push": _enterprise_trade_push,
    "logistics_sync_query": _enterprise_sync_query,
    "logistics_sync_ack": _enterprise_sync_ack,
    "api_goodsspec_push": _enterprise_goods_push,
    "sales_refund_push": _enterprise_refund_push,
    "api_goods_stock_change_query": _enterprise_stock_query,
    "api_goods_stock_change_ack": _enterprise_stock_ack,
    "vip_api_trade_query": _enterprise_raw_trades,
    "shop": lambda form: {"total_count": len(shops := simulator().shops(form.get("shop_no"))), "shoplist": shops},
    "warehouse_query": lambda form: {
        "total_count": len(houses := simulator().warehouses(form.get("warehouse_no"))),
        "warehouses": houses,
    },
    "logistics": lambda form: {"logistics_list": simulator().logistics()},
}


@bp.post("/openapi2/<script>.php")
def enterprise(script: str):
    handle = ENTERPRISE_SCRIPTS.get(script) or abort(404)
    return _answer(EDITION_ENTERPRISE, script, _verify_enterprise, handle)


# --- ultimate (qjb gateway) ---


def _verify_ultimate() -> list:
    query = request.args.to_dict()
    body = request.get_data(as_text=True)
    account = simulator().account
    secret, salt = split_ultimate_secret(account.appsecret)
    if query.get("sid") != account.sid:
        raise Refusal("sid is not exists", 1)
    if query.get("key") != account.appkey:
        raise Refusal("app auth fail", 1)
    if query.get("salt") != salt or query.get("sign") != ultimate_sign({**query, "body": body}, secret):
        raise Refusal("验证失败", 1)
    if query.get("v") != "1.0":
        raise Refusal("版本错误", 8)
    if not _clock_ok(query.get("timestamp"), ULTIMATE_EPOCH, ULTIMATE_CLOCK_WINDOW):
        raise Refusal("时间戳错误", 7)
    method = ULTIMATE_METHODS.get(query.get("method", ""))
    if method is None:
        raise Refusal(f"接口不存在: {query.get('method')}", 100)
    if method.paged and not (query.get("page_size") and query.get("page_no")):
        raise Refusal(f"此方法仅支持分页查询：{query.get('method')}")
    try:
        args = json.loads(body)
    except ValueError:
        args = None
    if not isinstance(args, list) or len(args) < method.arg_count:
        raise Refusal("invalid argument count", 1)
    return args


def _pager() -> tuple[int, int]:
    """(page_size, offset) from the query string."""
    size = min(max(int(request.args["page_size"]), 1), ULTIMATE_MAX_PAGE)
    return size, int(request.args["page_no"]) * size


def _page(rows: list[dict], key: str = "details") -> dict:
    size, offset = _pager()
    return {"data": {"total_count": len(rows), key: rows[offset : offset + size]}}


def _param(args: list) -> dict:
    if not isinstance(args[0], dict):
        raise Refusal("argument type mismatch", 1)
    return args[0]


def _ultimate_push_trades(args: list) -> dict:
    shop_no, heads, rows = args[:3]
    heads = _dicts(_within(heads, ULTIMATE.trades, "rawTradeList", EDITION_ULTIMATE), "rawTradeList")
    lines = defaultdict(list)
    for row in _dicts(rows, "rawTradeOrderList"):
        lines[row.get("tid")].append(row)
    trades = [{**head, "lines": lines[head.get("tid")]} for head in heads]
    new, changed, errors = simulator().push_trades(
        str(shop_no), trades, EDITION_ULTIMATE, check_codes=True, all_or_nothing=False
    )
    return {
        "data": {
            "new_count": new,
            "chg_count": changed,
            "error_list": [{"no": tid, "error": error} for tid, error in errors],
        }
    }


def _ultimate_sync_query(args: list) -> dict:
    params = _checked(ULTIMATE_LOGISTICS_QUERY, _param(args), EDITION_ULTIMATE)
    size, offset = _pager()
    records = simulator().pending_sync(params.get("shop_no", ""), size, offset) if params.get("is_own_platform") else []
    data = [
        {
            "sync_id": int(r["rec_id"]),
            **_copied(r, "tid", "logistics_no", "logistics_code", "logistics_name", "is_part_sync", "oids", "trade_id"),
            "platform_id": OWN_PLATFORM_ID,
            "created": r["consign_time"],
        }
        for r in records
    ]
    return {"total": len(data), "data": data}


def _ultimate_sync_update(args: list) -> dict:
    items = _dicts(_within(args[0], ULTIMATE.acks, "syncList", EDITION_ULTIMATE), "syncList")
    for item in items:
        _checked(ULTIMATE_LOGISTICS_ACK, item, EDITION_ULTIMATE)
    outcome = {0: True, 2: False, -100: None}
    acks = [
        (str(item.get("sync_id")), outcome[_int(item.get("status"))], str(item.get("error_msg") or ""))
        for item in items
    ]
    return {"data": [f"物流同步记录 {rec_id} {error}" for rec_id, error in simulator().ack(acks)]}


def _ultimate_goods_upload(args: list) -> dict:
    param = _checked(ULTIMATE_GOODS, _param(args), EDITION_ULTIMATE)
    lines = _dicts(_within(param["goods_list"], ULTIMATE.goods, "goods_list", EDITION_ULTIMATE), "goods_list")
    simulator().push_platform_goods(str(param["shop_no"]), lines, EDITION_ULTIMATE, all_or_nothing=True)
    rec_ids = simulator().platform_goods_ids(str(param["shop_no"]), lines)
    return {"data": {"status": 0, "rec_ids": rec_ids}}


def _ultimate_refund_upload(args: list) -> dict:
    shop_no, rows = args[:2]
    refunds: dict[str, dict] = {}
    for row in _dicts(_within(rows, ULTIMATE_REFUND_ROWS, "order_list", EDITION_ULTIMATE), "order_list"):
        refund = refunds.setdefault(
            str(row.get("refund_no")),
            {key: row.get(key) for key in ("refund_no", "tid", "type", "status", "buyer_nick", "refund_time", "reason")}
            | {"refund_fee": "0", "lines": [], "rows": []},
        )
        refund["refund_fee"] = money(decimal_of(refund["refund_fee"]) + decimal_of(row.get("refund_amount")))
        refund["lines"].append({"oid": row.get("oid"), "num": row.get("num")})
        refund["rows"].append(row)
    new, changed = simulator().push_refunds(str(shop_no), list(refunds.values()), EDITION_ULTIMATE)
    return {"data": {"new_count": new, "chg_count": changed}}


def _ultimate_raw_search(args: list) -> dict:
    params = _checked(ULTIMATE_RAW_TRADE_SEARCH, _param(args), EDITION_ULTIMATE)
    tid = None if blank(params.get("tid")) else str(params["tid"])
    if tid is None:
        _query_window(params, EDITION_ULTIMATE)
    rows = _modified_within(simulator().raw_trades(params.get("shop_no"), [tid] if tid else None), params, bool(tid))
    return _page([{**row, "modified": row["pushed_at"]} for row in rows], "order")


def _ultimate_wait_list(args: list) -> dict:
    params = _checked(ULTIMATE_STOCK_WAIT_LIST, {"count": args[0], "position": args[1]}, EDITION_ULTIMATE)
    ids, position = simulator().wait_list(_int(params["count"]), _int(params["position"]))
    return {"data": {"id_list": ids, "position": position}}


def _ultimate_calc_stock(args: list) -> dict:
    return {"data": simulator().calculated_stock(args[0])}


def _ultimate_batch_calc_stock(args: list) -> dict:
    items = _dicts(args[0], "params")
    success, errors = [], []
    for item in items:
        try:
            success.append(simulator().calculated_stock(item.get("api_goods_id")))
        except Refusal as refusal:
            errors.append({"rec_id": item.get("api_goods_id"), "err_msg": refusal.message})
    return {"data": {"success_date": success, "error_date": errors}}


def _ultimate_sync_result(ok: bool) -> Callable[[list], dict]:
    def handle(args: list) -> dict:
        info = _checked(ULTIMATE_STOCK_SYNC_INFO, args[1], EDITION_ULTIMATE, key=str(args[0]))
        error = simulator().stock_synced(
            args[0], info["syn_stock"], info["stock_change_count"], ok, str(info.get("syn_result") or "")
        )
        if error:
            raise Refusal(error)
        return {}

    return handle


class Method:
    def __init__(self, handle: Callable[[list], dict], arg_count: int = 1, paged: bool = False):
        self.handle, self.arg_count, self.paged = handle, arg_count, paged


ULTIMATE_METHODS = {
    "sales.RawTrade.pushSelf2": Method(_ultimate_push_trades, 3),
    "sales.RawTrade.searchSelfOrder": Method(_ultimate_raw_search, paged=True),
    "sales.LogisticsSync.getSyncListExt": Method(_ultimate_sync_query, paged=True),
    "sales.LogisticsSync.update": Method(_ultimate_sync_update),
    "goods.ApiGoods.upload": Method(_ultimate_goods_upload),
    "aftersales.refund.RawRefund.upload": Method(_ultimate_refund_upload, 2),
    "sales.StockSync.getSelfWaitSyncIdListOpen": Method(_ultimate_wait_list, 2),
    "sales.StockSync.calcStock": Method(_ultimate_calc_stock, 2),
    "sales.StockSync.batchCalcStock": Method(_ultimate_batch_calc_stock),
    "sales.StockSync.syncSuccess": Method(_ultimate_sync_result(True), 2),
    "sales.StockSync.syncFail": Method(_ultimate_sync_result(False), 2),
    "setting.Shop.queryShop": Method(lambda args: _page(simulator().shops(_param(args).get("shop_no"))), paged=True),
    "setting.Warehouse.queryWarehouse": Method(
        lambda args: _page(simulator().warehouses(_param(args).get("warehouse_no"))), paged=True
    ),
    "setting.Logistics.queryLogistics": Method(lambda args: _page(simulator().logistics()), paged=True),
}


def _dispatch(args: list) -> dict:
    return ULTIMATE_METHODS[request.args["method"]].handle(args)  # _verify_ultimate knows the method


@bp.post("/openapi")
def ultimate():
    return _answer(EDITION_ULTIMATE, request.args.get("method", ""), _verify_ultimate, _dispatch)
