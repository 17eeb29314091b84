"""WDT's two protocols as the simulator serves them: enterprise scripts under /openapi2/, the ultimate gateway at
/openapi. Each checks the caller like WDT does, turns the call into the edition-neutral rules of SimulatorState and
answers in that edition's envelope."""
from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable

from flask import Blueprint, Response, abort, current_app, jsonify, request

from ..wdt.editions import BATCH_LIMITS, EDITION_ENTERPRISE, EDITION_ULTIMATE
from ..wdt.payloads import decimal_of, money
from ..wdt.signing import ULTIMATE_EPOCH, enterprise_sign, split_ultimate_secret, ultimate_sign
from .faults import Faults
from .state import Refusal, SimulatorState

bp = Blueprint("wdt_protocol", __name__)

ENTERPRISE_CLOCK_WINDOW = 300  # seconds, wdt-api.md §1
ULTIMATE_CLOCK_WINDOW = 120
ULTIMATE_MAX_PAGE = 1000
ULTIMATE_REFUND_ROWS = 100  # RawRefund.upload rows per call, wdt-api.md §3.5
RATE_LIMIT_MESSAGE = "超过每分钟最大调用频率限制，请稍后重试"
ENTERPRISE, ULTIMATE = BATCH_LIMITS[EDITION_ENTERPRISE], BATCH_LIMITS[EDITION_ULTIMATE]


def simulator() -> SimulatorState:
    return current_app.extensions["wdt_simulator"]


def faults() -> Faults:
    return current_app.extensions["wdt_simulator_faults"]


def _envelope_key(edition: str) -> str:
    return "code" if edition == EDITION_ENTERPRISE else "status"


def _refused(edition: str, refusal: Refusal) -> Response:
    return jsonify({_envelope_key(edition): refusal.code, "message": refusal.message})


def _fault_answer(edition: str) -> Response | None:
    """Latency for every call, and the failure this call was picked for, if any."""
    settings = faults().settings
    if settings.latency_ms:
        time.sleep(settings.latency_ms / 1000)
    kind = faults().draw()
    if kind == "5xx":
        return Response("Bad Gateway", 502)
    if kind == "timeout":  # the answer comes too late, and the call is not carried out
        time.sleep(settings.timeout_sleep_s)
        return Response("Gateway Timeout", 504)
    if kind == "rate_limit":
        return _refused(edition, Refusal(RATE_LIMIT_MESSAGE))
    if kind == "bad_json":
        return Response("<html><body>系统维护中</body></html>", 200, mimetype="text/html")
    return None


def _answer(edition: str, verify: Callable[[], object], handle: Callable[[object], dict]) -> Response:
    answer = _fault_answer(edition)
    if answer is not None:
        return answer
    try:
        payload = handle(verify())
    except Refusal as refusal:
        return _refused(edition, refusal)
    return jsonify({_envelope_key(edition): 0, "message": "", **payload})


def _clock_ok(timestamp: str | None, epoch: int, window: int) -> bool:
    try:
        return abs(int(timestamp or "") + epoch - time.time()) <= window
    except ValueError:
        return False


def _within(items: list, limit: int, name: str) -> list:
    if not isinstance(items, list):
        raise Refusal(f"{name} 必须是列表")
    if len(items) > limit:
        raise Refusal(f"{name} 条数超过上限 {limit}")
    return items


def _lines_as(items: list[dict], key: str) -> list[dict]:
    """Enterprise nests lines under `key`; the rules want them under "lines"."""
    return [{**item, "lines": item.get(key) or []} for item in items]


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
        raise Refusal(f"{name} 缺失或不是合法的JSON") from None


def _enterprise_trade_push(form: dict) -> dict:
    trades = _lines_as(_within(_json_param(form, "trade_list"), ENTERPRISE.trades, "trade_list"), "order_list")
    new, changed, _ = simulator().push_trades(form.get("shop_no", ""), trades, check_codes=form.get("switch") == "1",
                                              all_or_nothing=True)
    return {"new_count": new, "chg_count": changed}


def _enterprise_sync_query(form: dict) -> dict:
    try:
        limit = min(max(int(form.get("limit", "")), 1), 100)
    except ValueError:
        raise Refusal("limit 不合法") from None
    records = simulator().pending_sync(form.get("shop_no", ""), limit)
    trades = [{
        "rec_id": r["rec_id"], "shop_no": r["shop_no"], "tid": r["tid"], "logistics_type": r["logistics_type"],
        "logistics_no": r["logistics_no"], "delivery_term": r["delivery_term"], "consign_time": r["consign_time"],
        "oids": r["oids"], "is_part_sync": r["is_part_sync"], "platform_id": 127, "trade_id": r["trade_id"],
        "logistics_code_erp": r["logistics_code"], "logistics_name_erp": r["logistics_name"],
        "logistics_name": r["logistics_name"],
    } for r in records]
    return {"total_count": len(trades), "trades": trades}


def _enterprise_sync_ack(form: dict) -> dict:
    items = _within(_json_param(form, "logistics_list"), ENTERPRISE.acks, "logistics_list")
    acks = [(str(item.get("rec_id")), str(item.get("status")) == "0", str(item.get("message") or "")) for item in items]
    return {"errors": [{"rec_id": rec_id, "error": error} for rec_id, error in simulator().ack(acks)]}


def _enterprise_goods_push(form: dict) -> dict:
    info = _json_param(form, "api_goods_info")
    if not isinstance(info, dict) or str(info.get("platform_id")) != "127":
        raise Refusal("shop_no 对应的店铺所属的平台 与 传入platform_id 不一致")
    lines = _within(info.get("goods_list"), ENTERPRISE.goods, "goods_list")
    new, changed, errors = simulator().push_platform_goods(str(info.get("shop_no") or ""), lines, all_or_nothing=False)
    return {"new_count": new, "chg_count": changed,
            "errors": [{"goods_id": goods_id, "spec_id": spec_id, "error": error} for goods_id, spec_id, error in errors]}


def _enterprise_refund_push(form: dict) -> dict:
    refunds = _lines_as(_within(_json_param(form, "api_refund_list"), ENTERPRISE.refunds, "api_refund_list"),
                        "order_list")
    shops = {refund.get("shop_no") for refund in refunds}
    if len(shops) != 1:
        raise Refusal("退款单须属于同一店铺")
    new, changed = simulator().push_refunds(shops.pop(), refunds)
    return {"new_count": new, "chg_count": changed}


def _enterprise_shop(form: dict) -> dict:
    shops = simulator().shops(form.get("shop_no"))
    return {"total_count": len(shops), "shoplist": shops}


def _enterprise_warehouses(form: dict) -> dict:
    warehouses = simulator().warehouses(form.get("warehouse_no"))
    return {"total_count": len(warehouses), "warehouses": warehouses}


ENTERPRISE_SCRIPTS = {
    "trade_push": _enterprise_trade_push,
    "logistics_sync_query": _enterprise_sync_query,
    "logistics_sync_ack": _enterprise_sync_ack,
    "api_goodsspec_push": _enterprise_goods_push,
    "sales_refund_push": _enterprise_refund_push,
    "shop": _enterprise_shop,
    "warehouse_query": _enterprise_warehouses,
    "logistics": lambda form: {"logistics_list": simulator().logistics()},
}


@bp.post("/openapi2/<script>.php")
def enterprise(script: str):
    handle = ENTERPRISE_SCRIPTS.get(script) or abort(404)
    return _answer(EDITION_ENTERPRISE, _verify_enterprise, handle)


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


def _ultimate_push_trades(args: list) -> dict:
    shop_no, heads, rows = args[:3]
    lines = defaultdict(list)
    for row in rows:
        lines[row.get("tid")].append(row)
    trades = [{**head, "lines": lines[head.get("tid")]} for head in _within(heads, ULTIMATE.trades, "rawTradeList")]
    new, changed, errors = simulator().push_trades(shop_no, trades, check_codes=True, all_or_nothing=False)
    return {"data": {"new_count": new, "chg_count": changed,
                     "error_list": [{"no": tid, "error": error} for tid, error in errors]}}


def _ultimate_sync_query(args: list) -> dict:
    params = args[0]
    size, offset = _pager()
    records = simulator().pending_sync(params.get("shop_no", ""), size, offset) if params.get("is_own_platform") else []
    data = [{
        "sync_id": int(r["rec_id"]), "tid": r["tid"], "logistics_no": r["logistics_no"],
        "logistics_code": r["logistics_code"], "logistics_name": r["logistics_name"],
        "is_part_sync": r["is_part_sync"], "oids": r["oids"], "trade_id": r["trade_id"], "platform_id": 127,
        "created": r["consign_time"],
    } for r in records]
    return {"total": len(data), "data": data}


def _ultimate_sync_update(args: list) -> dict:
    items = _within(args[0], ULTIMATE.acks, "syncList")
    outcome = {"0": True, "2": False, "-100": None}
    acks = [(str(item.get("sync_id")), outcome.get(str(item.get("status")), False), str(item.get("error_msg") or ""))
            for item in items]
    return {"data": [f"物流同步记录 {rec_id} {error}" for rec_id, error in simulator().ack(acks)]}


def _ultimate_goods_upload(args: list) -> dict:
    param = args[0] if isinstance(args[0], dict) else {}
    lines = _within(param.get("goods_list"), ULTIMATE.goods, "goods_list")
    simulator().push_platform_goods(str(param.get("shop_no") or ""), lines, all_or_nothing=True)
    return {"data": {"status": 0}}


def _ultimate_refund_upload(args: list) -> dict:
    shop_no, rows = args[:2]
    refunds: dict[str, dict] = {}
    for row in _within(rows, ULTIMATE_REFUND_ROWS, "order_list"):
        refund = refunds.setdefault(row.get("refund_no"), {
            key: row.get(key) for key in ("refund_no", "tid", "type", "status", "buyer_nick", "refund_time", "reason")
        } | {"refund_fee": "0", "lines": []})
        refund["refund_fee"] = money(decimal_of(refund["refund_fee"]) + decimal_of(row.get("refund_amount")))
        refund["lines"].append({"oid": row.get("oid"), "num": row.get("num")})
    new, changed = simulator().push_refunds(shop_no, list(refunds.values()))
    return {"data": {"new_count": new, "chg_count": changed}}


def _details(rows: list[dict]) -> dict:
    size, offset = _pager()
    return {"data": {"total_count": len(rows), "details": rows[offset:offset + size]}}


class Method:
    def __init__(self, handle: Callable[[list], dict], arg_count: int = 1, paged: bool = False):
        self.handle, self.arg_count, self.paged = handle, arg_count, paged


ULTIMATE_METHODS = {
    "sales.RawTrade.pushSelf2": Method(_ultimate_push_trades, 3),
    "sales.LogisticsSync.getSyncListExt": Method(_ultimate_sync_query, paged=True),
    "sales.LogisticsSync.update": Method(_ultimate_sync_update),
    "goods.ApiGoods.upload": Method(_ultimate_goods_upload),
    "aftersales.refund.RawRefund.upload": Method(_ultimate_refund_upload, 2),
    "setting.Shop.queryShop": Method(lambda args: _details(simulator().shops(args[0].get("shop_no"))), paged=True),
    "setting.Warehouse.queryWarehouse": Method(
        lambda args: _details(simulator().warehouses(args[0].get("warehouse_no"))), paged=True),
    "setting.Logistics.queryLogistics": Method(lambda args: _details(simulator().logistics()), paged=True),
}


def _dispatch(args: list) -> dict:
    return ULTIMATE_METHODS[request.args["method"]].handle(args)  # _verify_ultimate knows the method


@bp.post("/openapi")
def ultimate():
    return _answer(EDITION_ULTIMATE, _verify_ultimate, _dispatch)
