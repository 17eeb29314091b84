"""商品: every SKU with its 商家编码 and its push to WDT; the problems to fix before orders fail, 推送到旺店通 per row
and for all (with progress), and 重推受影响订单 once the mall has corrected a code."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, g, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..jobs import enqueue_pushes, leave_to_sweeper_if_down, request_goods_push
from ..merchant_config import load_config
from ..pulls.stock import quantity_text
from ..push import code_fix
from ..push import goods as goods_push
from ..push import repush as repushing
from ..queries import goods as goods_queries
from ..queries.goods import PROBLEMS, GoodsFilters
from .auth import login_required
from .forms import EmptyForm, GoodsFilterForm, empty_form_required
from .fragments import swaps

bp = Blueprint("goods", __name__, url_prefix="/goods")
PROBLEM_LABELS = {
    "": _l("全部"),  # no filter: every SKU
    "missing": _l("缺少商家编码"),
    "unknown": _l("编码在旺店通不存在"),
    "duplicate": _l("编码重复"),
    "failed": _l("推送失败"),
}
REFUSALS = {
    "integration_off": _l("旺店通对接未开启：请先在 旺店通配置 中开启。"),
    "missing_code": _l("缺少商家编码，不能推送：请先在商城中填写。"),
    "nothing_to_push": _l("还没有商品：商城通过接口发来商品后才能推送。"),
}
EDITOR_FIELDS = ("goods_id", "spec_id", "merchant_code")
# HX-Trigger: the lists refresh themselves when the SKUs' push states change, and after a re-push
PUSH_CHANGED_EVENT, REPUSHED_EVENT = "goods-push-changed", "orders-repushed"


@bp.app_template_global()
def goods_editor_link(template: str, row) -> str:
    """The mall's goods editor for this SKU: the configured link with its placeholders filled in."""
    values = {
        "goods_id": row.goods.mall_goods_id,
        "spec_id": row.spec.mall_spec_id,
        "merchant_code": row.spec.merchant_code or "",
    }
    for name in EDITOR_FIELDS:
        template = template.replace(f"{{{name}}}", quote(values[name], safe=""))
    return template


bp.add_app_template_filter(quantity_text, "stock_quantity")


@bp.app_context_processor
def goods_labels():
    return {"problem_labels": PROBLEM_LABELS, "goods_refusals": REFUSALS}


def _filters(values) -> tuple[GoodsFilterForm, GoodsFilters]:
    form = GoodsFilterForm(values)
    form.problem.choices = list(PROBLEM_LABELS.items())
    form.validate()
    usable = lambda field: "" if field.errors else (field.data or "").strip()  # noqa: E731
    problem = form.problem.data if form.problem.data in PROBLEMS else ""
    return form, GoodsFilters(problem=problem, q=usable(form.q), cursor=usable(form.cursor), before=usable(form.before))


def _enabled() -> bool:
    config = load_config(g.user.merchant_id)
    return bool(config and config.enabled)


def _row(row, status: int = 200, **extra):
    return render_template(
        "goods/_row.html",
        row=row,
        action_form=EmptyForm(),
        enabled=_enabled(),
        editor_url=g.user.merchant.goods_editor_url,
        **extra,
    ), status


@bp.get("/")
@login_required
def index():
    """SKUs with counts per problem, filters and search in the URL, keyset pages."""
    form, filters = _filters(request.args)
    merchant_id = g.user.merchant_id
    unknown = goods_queries.unknown_codes(merchant_id)
    context = {
        "form": form,
        "filters": filters,
        "page": goods_queries.sku_page(merchant_id, filters, unknown),
        "counts": goods_queries.problem_counts(merchant_id, unknown),
        "action_form": EmptyForm(),
        "enabled": _enabled(),
        "editor_url": g.user.merchant.goods_editor_url,
    }
    if swaps("goods-results"):
        return render_template("goods/_results.html", **context)
    run_id = goods_push.latest_run_id(merchant_id)
    progress = goods_push.run_progress(merchant_id, run_id) if run_id else None
    return render_template(
        "goods/index.html",
        **context,
        fixable=goods_queries.fixable_orders(merchant_id, unknown),
        progress=progress if progress and not progress.finished else None,
    )


@bp.get("/specs/<row_id:spec_id>")
@login_required
def row(spec_id: int):
    """One SKU's row; it polls itself while its push waits."""
    found = goods_queries.sku_row(g.user.merchant_id, spec_id) or abort(404)
    return _row(found, polls=True)


@bp.post("/specs/<row_id:spec_id>/push")
@login_required
@empty_form_required
def push(spec_id: int):
    """推送到旺店通: queue this SKU's push and answer with its row (409 and the reason if refused)."""
    try:
        goods_push.mark_for_push(g.user.merchant_id, g.user, spec_id)
        db.session.commit()
    except goods_push.GoodsPushRefused as exc:
        db.session.rollback()
        if exc.reason == "not_found":
            abort(404)
        return _row(goods_queries.sku_row(g.user.merchant_id, spec_id), 409, refusal=exc.reason)
    queued = leave_to_sweeper_if_down(lambda: request_goods_push(g.user.merchant_id), "the goods push")
    return _row(goods_queries.sku_row(g.user.merchant_id, spec_id), polls=True, queued_later=not queued)


@bp.post("/push-all")
@login_required
@empty_form_required
def push_all():
    """推送全部到旺店通: every SKU, as one run; answers with its progress bar."""
    try:
        run = goods_push.start_catalogue_push(g.user.merchant_id, g.user)
        db.session.commit()
    except goods_push.GoodsPushRefused as exc:
        db.session.rollback()
        return render_template("goods/_push_progress.html", progress=None, message=REFUSALS[exc.reason]), 422
    leave_to_sweeper_if_down(lambda: request_goods_push(g.user.merchant_id), "the goods push")
    return _push_progress(run.id, started=True)


@bp.get("/push-all/<row_id:run_id>")
@login_required
def push_all_progress(run_id: int):
    """The run's progress bar, polling itself until every SKU has an outcome."""
    return _push_progress(run_id)


def _push_progress(run_id: int, started: bool = False):
    """The bar; when the run starts (every row now waits) and when it ends, the list refreshes itself."""
    progress = goods_push.run_progress(g.user.merchant_id, run_id) or abort(404)
    response = make_response(
        render_template("goods/_push_progress.html", progress=progress, message=None, enabled=_enabled())
    )
    if started or progress.finished:
        response.headers["HX-Trigger"] = PUSH_CHANGED_EVENT
    return response


@bp.get("/fixed-orders")
@login_required
def fixed_orders():
    """The abnormal orders that a corrected code fixes (the section refreshes itself after a re-push)."""
    merchant_id = g.user.merchant_id
    fixable = goods_queries.fixable_orders(merchant_id, goods_queries.unknown_codes(merchant_id))
    return render_template("goods/_fixed_orders.html", fixable=fixable, action_form=EmptyForm())


@bp.post("/fixed-orders/repush")
@login_required
@empty_form_required
def repush_fixed():
    """重推受影响订单: the fixable orders take their specs' codes and are re-pushed together; answers with progress."""
    started = code_fix.repush_fixed_orders(g.user.merchant_id, g.user)
    if started is None:
        return render_template("goods/_repush_progress.html", progress=None, message=_("没有可以重推的订单。")), 422
    bulk, queued = started
    db.session.commit()
    if queued:
        leave_to_sweeper_if_down(lambda: enqueue_pushes(g.user.merchant_id, queued), "re-pushes")
    return _repush_progress(bulk.id)


@bp.get("/fixed-orders/repush/<row_id:bulk_id>")
@login_required
def repush_fixed_progress(bulk_id: int):
    return _repush_progress(bulk_id)


def _repush_progress(bulk_id: int):
    progress = repushing.bulk_progress(g.user.merchant_id, bulk_id) or abort(404)
    response = make_response(
        render_template(
            "goods/_repush_progress.html",
            progress=progress,
            message=None,
            poll_url=url_for("goods.repush_fixed_progress", bulk_id=bulk_id),
        )
    )
    if progress.finished:
        response.headers["HX-Trigger"] = REPUSHED_EVENT
    return response
