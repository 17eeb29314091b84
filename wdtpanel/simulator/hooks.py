"""What a person or a test does to the fake WDT: a page at / to move trades through the warehouse and change stock,
and JSON hooks under /_sim/ to ship, re-offer records, add goods, change stock, inject failures, set the call quota,
read (violations included) and reset the state."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, jsonify, redirect, render_template_string, request, url_for

from .protocol import faults, quota, simulator
from .state import PART_SHIPPED, STAGES, NotFound, SubmitFailed

bp = Blueprint("wdt_simulator_hooks", __name__)

PAGE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>旺店通模拟器 / WDT simulator</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}
td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}form{display:inline}</style></head>
<body><h1>旺店通模拟器 / WDT simulator</h1>
<p>sid <b>{{ account.sid }}</b> · appkey <b>{{ account.appkey }}</b> · 店铺 <b>{{ account.shop_no }}</b>
 · 仓库 <b>{{ account.warehouse_no }}</b></p>
<h2>原始订单 / Raw trades</h2>
<table><tr><th>店铺</th><th>原始单号</th><th>状态</th><th>货品</th><th>推送次数</th><th>操作</th></tr>
{% for trade in state.trades %}<tr><td>{{ trade.shop_no }}</td><td>{{ trade.tid }}</td><td>{{ trade.stage }}
{% if trade.bad_reason %}<br><b>递交失败：{{ trade.bad_reason }}</b>{% endif %}</td>
<td>{% for line in trade.lines %}{{ line.oid }} · {{ line.spec_no }} × {{ line.num }}{% if line.shipped %} ✓{% endif %}<br>
{% endfor %}</td><td>{{ trade.push_count }}</td><td>
{% if trade.stage in stages[:-1] %}<form method="post" action="{{ url_for('.advance', tid=trade.tid) }}">
<input type="hidden" name="from" value="page"><button>{{ stages[stages.index(trade.stage) + 1] }}</button></form>{% endif %}
{% if trade.stage in (stages[-1], part_shipped) %}<form method="post" action="{{ url_for('.ship', tid=trade.tid) }}">
<input type="hidden" name="from" value="page"><select name="logistics_code">{% for company in state.logistics %}
<option value="{{ company.logistics_no }}">{{ company.logistics_name }}</option>{% endfor %}</select>
<input name="logistics_no" placeholder="物流单号" required> <input name="oids" placeholder="子订单号(可选,逗号分隔)">
<button>确认发货</button></form>{% endif %}</td></tr>
{% else %}<tr><td colspan="6">还没有订单 / no trades yet</td></tr>{% endfor %}</table>
<h2>物流同步 / Logistics sync</h2>
<table><tr><th>rec_id</th><th>原始单号</th><th>物流</th><th>子订单</th><th>状态</th><th>回写信息</th><th></th></tr>
{% for record in state.sync %}<tr><td>{{ record.rec_id }}</td><td>{{ record.tid }}</td>
<td>{{ record.logistics_name }} {{ record.logistics_no }}</td><td>{{ record.oids }}</td><td>{{ record.status }}</td>
<td>{{ record.message }}</td><td>{% if record.status != "pending" %}
<form method="post" action="{{ url_for('.reoffer', rec_id=record.rec_id) }}"><input type="hidden" name="from" value="page">
<button>重新同步</button></form>{% endif %}</td></tr>{% endfor %}</table>
<h2>库存 / Stock</h2>
<form method="post" action="{{ url_for('.stock') }}"><input type="hidden" name="from" value="page">
<select name="spec_no">{% for code in state.goods %}<option value="{{ code }}">{{ code }}（库存 {{ state.stock[code] }}）</option>
{% endfor %}</select> <input name="quantity" type="number" step="1" placeholder="盘点后的库存">
<input name="delta" type="number" step="1" placeholder="出库填负数，入库填正数"> <button>保存库存</button></form>
<h3>平台货品 / Platform goods</h3>
<table><tr><th>rec_id</th><th>店铺</th><th>货品ID</th><th>规格ID</th><th>商家编码</th><th>匹配</th><th>待同步库存</th>
<th>变化次数</th><th>状态</th></tr>
{% for row in state.platform_goods %}<tr><td>{{ row.rec_id }}</td><td>{{ row.shop_no }}</td><td>{{ row.goods_id }}</td>
<td>{{ row.spec_id }}</td><td>{{ row.spec_no }}</td><td>{{ row.match_code or "未匹配" }}</td><td>{{ row.sync_stock }}</td>
<td>{{ row.stock_change_count }}</td><td>{{ "待同步" if row.waiting else "已同步" }} {{ row.message }}</td></tr>
{% else %}<tr><td colspan="9">还没有平台货品 / none yet</td></tr>{% endfor %}</table>
<h2>违反的规则 / Violations</h2>
<p>调用频率上限：{{ quota.calls_per_minute or "不限" }} 次/分钟</p>
<table><tr><th>规则</th><th>原始单号</th><th>对象</th><th>结果</th><th>说明</th></tr>
{% for item in state.violations|reverse %}<tr><td>{{ item.rule }}</td><td>{{ item.tid }}</td><td>{{ item.key }}</td>
<td>{{ item.effect }}</td><td>{{ item.detail }}</td></tr>{% else %}<tr><td colspan="5">无 / none</td></tr>{% endfor %}
</table>
</body></html>"""


def _done(action: Callable[[], object]):
    """Run a hook: JSON answers for programs, back to the page for its forms."""
    try:
        result = action()
    except NotFound as error:
        return jsonify({"error": str(error)}), 404
    except SubmitFailed as error:  # WDT keeps the trade, with the reason, and the page shows it
        if request.form.get("from") == "page":
            return redirect(url_for(".index"))
        return jsonify({"error": str(error)}), 409
    except (ValueError, TypeError) as error:
        return jsonify({"error": str(error)}), 400
    if request.form.get("from") == "page":
        return redirect(url_for(".index"))
    return jsonify(result)


def _input() -> dict:
    return request.get_json(silent=True) or request.form.to_dict()


@bp.get("/")
def index():
    return render_template_string(
        PAGE,
        account=simulator().account,
        state=simulator().snapshot(),
        stages=STAGES,
        part_shipped=PART_SHIPPED,
        quota=quota().describe(),
    )


@bp.get("/_sim/state")
def state():
    return jsonify(simulator().snapshot())


@bp.post("/_sim/reset")
def reset():
    simulator().reset()
    faults().configure()
    quota().reset()
    return jsonify({"ok": True})


@bp.post("/_sim/trades/<tid>/advance")
def advance(tid: str):
    return _done(lambda: simulator().advance(tid))


@bp.post("/_sim/trades/<tid>/ship")
def ship(tid: str):
    data = _input()
    oids = data.get("oids") or None
    if isinstance(oids, str):
        oids = [oid.strip() for oid in oids.split(",") if oid.strip()]
    return _done(lambda: simulator().ship(tid, data.get("logistics_code", ""), data.get("logistics_no", ""), oids))


@bp.post("/_sim/sync/<rec_id>/reoffer")
def reoffer(rec_id: str):
    return _done(lambda: simulator().reoffer(rec_id))


@bp.post("/_sim/goods")
def add_goods():
    return _done(lambda: {"goods": simulator().add_goods(list(_input().get("codes") or []))})


@bp.post("/_sim/stock")
def stock():
    """{"spec_no", "quantity"} as a 盘点 sets it, or {"spec_no", "delta"} as an 出库 (< 0) or 入库 (> 0) moves it."""
    data = _input()
    amounts = {name: data.get(name) for name in ("quantity", "delta") if data.get(name) not in (None, "")}
    return _done(lambda: simulator().set_stock(str(data.get("spec_no") or ""), **amounts))


@bp.route("/_sim/quota", methods=["GET", "POST"])
def set_quota():
    """{"calls_per_minute": N or null}: WDT's per-minute quota of calls for the account; null for none."""
    if request.method == "GET":
        return jsonify(quota().describe())
    return _done(lambda: quota().configure(_input().get("calls_per_minute")))


@bp.route("/_sim/faults", methods=["GET", "POST"])
def set_faults():
    if request.method == "GET":
        return jsonify(vars(faults().settings))
    return _done(lambda: vars(faults().configure(**_input())))


@bp.post("/_sim/faults/next")
def fail_next():
    data = _input()
    return _done(lambda: {"queued": faults().fail_next(data.get("kind", ""), int(data.get("count", 1)))})
