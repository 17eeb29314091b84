"""设置 → 第三方管理 → 旺店通异常订单: failed orders, their reasons, and 订单重推 in place."""
from __future__ import annotations

import re

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from redis.exceptions import RedisError

from ..columns import utcnow
from ..extensions import db
from ..jobs import enqueue_pushes
from ..push import repush as repushing
from ..queries import abnormal
from ..queries.orders import order_by_id
from ..reasons import REASONS
from .auth import login_required
from .forms import AbnormalFilterForm, EmptyForm
from .fragments import wants_fragment

bp = Blueprint("abnormal", __name__, url_prefix="/abnormal")


@bp.app_template_filter("row_state")
def row_state_filter(order) -> str:
    return abnormal.row_state(order, utcnow())


bp.add_app_template_filter(abnormal.chip_of, "chip")
ATTEMPT_LABELS = {"pushed": _l("成功"), "abnormal": _l("失败"), "retry": _l("稍后重试"), "unconfirmed": _l("未确认")}


@bp.context_processor
def labels():
    return {"attempt_labels": ATTEMPT_LABELS}


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _filters(values) -> tuple[AbnormalFilterForm, abnormal.Filters]:
    form = AbnormalFilterForm(values)
    form.reason.choices = [("", _("全部原因"))] + [(code, _(reason.label)) for code, reason in REASONS.items()]
    form.validate()
    filters = abnormal.Filters(
        reason=form.reason.data if form.reason.data in REASONS else "",
        date_from=None if form.date_from.errors else form.date_from.data,
        date_to=None if form.date_to.errors else form.date_to.data,
        q=(form.q.data or "").strip(), cursor=form.cursor.data or "",
    )
    return form, filters


def _queue(order_ids: list[int]) -> bool:
    """Queue the pushes now; if Redis is down the orders stay pending and the sweeper queues them."""
    try:
        enqueue_pushes(g.user.merchant_id, order_ids)
        return True
    except RedisError:
        current_app.logger.warning("re-push queued in the database only (Redis unavailable)")
        return False


def _row(order, **extra):
    return render_template("abnormal/_row.html", order=order, action_form=EmptyForm(), **extra)


@bp.get("/")
@login_required
def index():
    """The list: counts per reason, filters in the URL, keyset pages."""
    form, filters = _filters(request.args)
    page = abnormal.list_page(g.user.merchant_id, filters, _zone())
    context = {"form": form, "filters": filters, "page": page, "action_form": EmptyForm(),
               "counts": abnormal.reason_counts(g.user.merchant_id)}
    if wants_fragment() and request.headers.get("HX-Target") == "abnormal-results":
        return render_template("abnormal/_results.html", **context)
    return render_template("abnormal/index.html", **context)


@bp.get("/orders/<int:order_id>")
@login_required
def row(order_id: int):
    """One row (a tbody), optionally with its push history; polled while the order is queued."""
    order = order_by_id(g.user.merchant_id, order_id) or abort(404)
    expanded = request.args.get("expand") == "1"
    return _row(order, expanded=expanded, attempts=abnormal.attempts_of(order) if expanded else [],
                spec_to_fix=abnormal.spec_to_fix(order))


@bp.post("/orders/<int:order_id>/repush")
@login_required
def repush(order_id: int):
    """订单重推: queue the push and answer with the row in its queued state."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        order = repushing.repush(g.user.merchant_id, g.user, order_id)
        db.session.commit()
    except repushing.RepushRefused as exc:
        if exc.reason == "not_found":
            abort(404)
        order = order_by_id(g.user.merchant_id, order_id)
        return _row(order, refusal=exc.reason), 409 if not request.htmx else 200
    queued = _queue([order.id])
    return _row(order, queued_later=not queued)


@bp.post("/bulk")
@login_required
def bulk_repush():
    """Re-push the selected rows, or all rows matching the filter; answers with a progress bar."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    if request.form.get("scope") == "filter":
        _, filters = _filters(request.form)  # the filter form's fields, sent along with the button
        order_ids = abnormal.matching_ids(g.user.merchant_id, filters, _zone())
    else:
        order_ids = [int(x) for x in request.form.getlist("order_ids") if re.fullmatch(r"[0-9]{1,18}", x)]
    bulk, queued = repushing.start_bulk_repush(g.user.merchant_id, g.user, order_ids)
    db.session.commit()
    if queued:
        _queue(queued)
    rows = abnormal.orders_by_id(g.user.merchant_id, queued[:abnormal.PAGE_SIZE]) if request.form.get("scope") != "filter" else []
    return _bulk_progress(bulk.id, rows)


@bp.get("/bulk/<int:bulk_id>")
@login_required
def bulk_status(bulk_id: int):
    """The progress bar; it polls itself until every order has an outcome."""
    return _bulk_progress(bulk_id, [])


def _bulk_progress(bulk_id: int, rows):
    """The progress bar, plus the selected rows swapped out of band to their queued state."""
    progress = repushing.bulk_progress(g.user.merchant_id, bulk_id) or abort(404)
    return render_template("abnormal/_bulk_progress.html", progress=progress, rows=rows, action_form=EmptyForm(),
                           poll_url=url_for("abnormal.bulk_status", bulk_id=bulk_id))
