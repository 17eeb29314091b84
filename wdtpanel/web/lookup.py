"""设置 → 第三方管理 → 全部订单: any order, whatever its state, and everything that happened to it."""

from __future__ import annotations

from flask import Blueprint, abort, g, request
from flask_babel import lazy_gettext as _l

from ..columns import utcnow
from ..queries import lookup
from .auth import login_required
from .forms import OrderLookupForm
from .fragments import page_or_fragment, page_or_results

bp = Blueprint("orders", __name__, url_prefix="/orders")
STATE_LABELS = {
    "queued": _l("排队中"),
    "pushing": _l("推送中"),
    "retry": _l("等待重试"),
    "pushed": _l("已推送"),
    "unconfirmed": _l("旺店通未确认"),
    "abnormal": _l("推送失败"),
    "historical": _l("历史订单"),
    "shipped": _l("已发货"),
}
SHIPPING_LABELS = {"none": _l("未发货"), "partial": _l("部分发货"), "shipped": _l("已发货")}
WEBHOOK_LABELS = {"pending": _l("待发送"), "delivered": _l("已送达")}


@bp.app_context_processor
def labels():
    return {"state_labels": STATE_LABELS, "shipping_labels": SHIPPING_LABELS, "webhook_labels": WEBHOOK_LABELS}


@bp.get("/")
@login_required
def index():
    """Search by (part of) the order no. or a merchant code, in any letter case; filter by state."""
    form = OrderLookupForm(request.args)
    form.state.choices = [("", _l("全部状态")), *list(STATE_LABELS.items())]
    form.validate()
    filters = lookup.LookupFilters(
        q=(form.q.data or "").strip() if not form.q.errors else "",
        state=form.state.data if form.state.data in STATE_LABELS else "",
        cursor=request.args.get("cursor", "")[:200],
        before=request.args.get("before", "")[:200],
    )
    context = {"form": form, "filters": filters, "page": lookup.find_orders(g.user.merchant_id, filters, utcnow())}
    return page_or_results("orders/index.html", "orders/_results.html", "lookup-results", **context)


@bp.get("/<row_id:order_id>")
@login_required
def detail(order_id: int):
    """One order's row; expanded, with its push attempts, shipments and webhooks."""
    record = lookup.order_record(g.user.merchant_id, order_id) or abort(404)
    expanded = request.args.get("expand", "1") == "1"
    return page_or_fragment(
        "orders/detail.html",
        "orders/_row.html",
        order=record.order,
        record=record if expanded else None,
        expanded=expanded,
    )
