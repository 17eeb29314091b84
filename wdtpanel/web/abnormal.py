"""设置 → 第三方管理 → 旺店通异常订单: failed orders, their reasons, and 订单重推 in place."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..columns import utcnow
from ..extensions import db
from ..jobs import enqueue_pushes, leave_to_sweeper_if_down
from ..push import repush as repushing
from ..queries import abnormal
from ..queries.lookup import PAGE_SIZE, attempts_of
from ..queries.orders import MAX_ROW_ID, order_by_id
from ..reasons import REASONS
from .auth import login_required
from .forms import AbnormalFilterForm, EmptyForm, empty_form_required
from .fragments import page_or_results

bp = Blueprint("abnormal", __name__, url_prefix="/abnormal")
ROW_ID = re.compile(r"[0-9]{1,19}")
PUSHED_ROW_LEAVES_MS = 3000  # a pushed row stays this long, then leaves the list (client side)
ATTEMPT_LABELS = {"pushed": _l("成功"), "abnormal": _l("失败"), "retry": _l("稍后重试"), "unconfirmed": _l("未确认")}
REFUSALS = {"historical": _l("历史订单不能重推。"), "already_pushed": _l("订单已推送成功，无需重推。")}


@bp.app_template_filter("row_state")
def row_state_filter(order) -> str:
    return abnormal.row_state(order, utcnow())


bp.add_app_template_filter(abnormal.chip_of, "chip")


ROW_TEXT = {
    "pick": _l("选择"),
    "order_no": _l("订单号"),
    "ordered_at": _l("下单时间"),
    "amount": _l("金额"),
    "buyer": _l("买家"),
    "reason": _l("原因"),
    "attempts": _l("推送次数"),
    "last_attempt": _l("最后推送"),
    "pushed": _l("已推送到旺店通"),
    "queued": _l("排队中…"),
    "pushing": _l("推送中…"),
    "repush": _l("订单重推"),
    "historical": _l("历史订单不能重推"),
}


def row_text() -> dict[str, str]:
    """The words every row repeats, translated once per request (a page has 50 rows)."""
    if "abnormal_row_text" not in g:
        g.abnormal_row_text = {key: str(text) for key, text in ROW_TEXT.items()}
        g.abnormal_row_url = url_for("abnormal.row", order_id=0).removesuffix("0")
    return g.abnormal_row_text


def row_url(order_id: int, action: str = "") -> str:
    """abnormal.row's URL (or one of its actions), without building it through the URL map for every row."""
    row_text()
    return f"{g.abnormal_row_url}{order_id}{action}"


@bp.app_context_processor
def labels():
    return {"attempt_labels": ATTEMPT_LABELS, "repush_refusals": REFUSALS, "row_text": row_text, "row_url": row_url}


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _filters(values) -> tuple[AbnormalFilterForm, abnormal.Filters]:
    form = AbnormalFilterForm(values)
    form.reason.choices = [("", _("全部原因"))] + [(code, _(reason.label)) for code, reason in REASONS.items()]
    form.validate()
    usable = lambda field: None if field.errors else field.data  # noqa: E731  (a bad field is left out, and said)
    filters = abnormal.Filters(
        reason=form.reason.data if form.reason.data in REASONS else "",
        date_from=usable(form.date_from),
        date_to=usable(form.date_to),
        q=(form.q.data or "").strip(),
        cursor=usable(form.cursor) or "",
        before=usable(form.before) or "",
    )
    return form, filters


def _queue(order_ids: list[int]) -> bool:
    """Queue the pushes now; if Redis is down the orders stay pending and the sweeper queues them."""
    return leave_to_sweeper_if_down(lambda: enqueue_pushes(g.user.merchant_id, order_ids), "re-pushes")


def _row(order, status: int = 200, **extra):
    return render_template(
        "abnormal/_row.html",
        order=order,
        action_form=EmptyForm(),
        polls=True,
        leaves_after=PUSHED_ROW_LEAVES_MS,
        **extra,
    ), status


def _ids(values) -> list[int]:
    return [int(x) for x in values if ROW_ID.fullmatch(x) and 0 < int(x) <= MAX_ROW_ID]


@bp.get("/")
@login_required
def index():
    """The list: counts per reason, filters in the URL, keyset pages."""
    form, filters = _filters(request.args)
    merchant_id = g.user.merchant_id
    counts, page = abnormal.reason_counts(merchant_id), abnormal.list_page(merchant_id, filters, _zone())
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "action_form": EmptyForm(),
        "counts": counts,
        "bulk_count": abnormal.matching_count(merchant_id, filters, _zone(), counts, page),
        "leaves_after": PUSHED_ROW_LEAVES_MS,
        "polls": True,
    }
    return page_or_results("abnormal/index.html", "abnormal/_results.html", "abnormal-results", **context)


@bp.get("/orders/<row_id:order_id>")
@login_required
def row(order_id: int):
    """One row (a tbody), optionally with its push history; polled while the order is queued or being pushed."""
    order = order_by_id(g.user.merchant_id, order_id) or abort(404)
    expanded = request.args.get("expand") == "1"
    return _row(
        order,
        expanded=expanded,
        attempts=attempts_of(order) if expanded else [],
        spec_to_fix=abnormal.spec_to_fix(order),
    )


@bp.post("/orders/<row_id:order_id>/repush")
@login_required
@empty_form_required
def repush(order_id: int):
    """订单重推: queue the push and answer with the row in its queued state (409 with the reason if refused)."""
    try:
        order = repushing.repush(g.user.merchant_id, g.user, order_id)
        db.session.commit()
    except repushing.RepushRefused as exc:
        if exc.reason == "not_found":
            abort(404)
        return _row(order_by_id(g.user.merchant_id, order_id), 409, refusal=exc.reason)
    return _row(order, queued_later=not _queue([order.id]))


@bp.post("/bulk")
@login_required
@empty_form_required
def bulk_repush():
    """Re-push the selected rows, or all rows matching the filter; answers with a progress bar."""
    by_filter = request.form.get("scope") == "filter"
    if by_filter:
        filters = _filters(request.form)[1]  # the filter form's fields, sent along with the button
        order_ids = abnormal.matching_ids(g.user.merchant_id, filters, _zone())
    else:
        order_ids = _ids(request.form.getlist("order_ids"))
    if not order_ids:
        message = _("没有符合条件的订单。") if by_filter else _("请先勾选要重推的订单。")
        return render_template("abnormal/_bulk_progress.html", progress=None, message=message, rows=[]), 422
    bulk, queued = repushing.start_bulk_repush(g.user.merchant_id, g.user, order_ids)
    db.session.commit()
    if queued:
        _queue(queued)
    rows = [] if by_filter else abnormal.orders_by_id(g.user.merchant_id, queued[:PAGE_SIZE])
    return _bulk_progress(bulk.id, rows)


@bp.get("/bulk/<row_id:bulk_id>")
@login_required
def bulk_status(bulk_id: int):
    """The progress bar; it polls itself until every order has an outcome, bringing the rows that changed."""
    waiting = abnormal.orders_by_id(g.user.merchant_id, _ids(request.args.getlist("waiting")))
    now = utcnow()
    return _bulk_progress(
        bulk_id, [order for order in waiting if abnormal.row_state(order, now) not in ("queued", "pushing")]
    )


def _bulk_progress(bulk_id: int, rows):
    """The progress bar, plus rows swapped out of band: they do not poll; the bar brings their next state."""
    progress = repushing.bulk_progress(g.user.merchant_id, bulk_id) or abort(404)
    return render_template(
        "abnormal/_bulk_progress.html",
        progress=progress,
        rows=rows,
        action_form=EmptyForm(),
        poll_url=url_for("abnormal.bulk_status", bulk_id=bulk_id),
        polls=False,
        leaves_after=PUSHED_ROW_LEAVES_MS,
    )
