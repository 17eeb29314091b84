"""What a person or a test does to the fake WDT: a page at / to move trades through the warehouse, and JSON hooks
under /_sim/ to ship, re-offer records, add goods, inject failures, read and reset the state."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, jsonify, redirect, render_template_string, request, url_for

from .protocol import faults, simulator
from .state import PART_SHIPPED, STAGES, NotFound

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
{% for trade in state.trades %}<tr><td>{{ trade.shop_no }}</td><td>{{ trade.tid }}</td><td>{{ trade.stage }}</td>
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
</body></html>"""


def _done(action: Callable[[], object]):
    """Run a hook: JSON answers for programs, back to the page for its forms."""
    try:
        result = action()
    except NotFound as error:
        return jsonify({"error": str(error)}), 404
    except (ValueError, TypeError) as error:
        return jsonify({"error": str(error)}), 400
    if request.form.get("from") == "page":
        return redirect(url_for(".index"))
    return jsonify(result)


def _input() -> dict:
    return request.get_json(silent=True) or request.form.to_dict()


@bp.get("/")
def index():
    return render_template_string(PAGE, account=simulator().account, state=simulator().snapshot(), stages=STAGES,
                                  part_shipped=PART_SHIPPED)


@bp.get("/_sim/state")
def state():
    return jsonify(simulator().snapshot())


@bp.post("/_sim/reset")
def reset():
    simulator().reset()
    faults().configure()
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


@bp.route("/_sim/faults", methods=["GET", "POST"])
def set_faults():
    if request.method == "GET":
        return jsonify(vars(faults().settings))
    return _done(lambda: vars(faults().configure(**_input())))


@bp.post("/_sim/faults/next")
def fail_next():
    data = _input()
    return _done(lambda: {"queued": faults().fail_next(data.get("kind"), int(data.get("count", 1)))})
