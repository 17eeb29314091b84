"""同步状态: per kind of pull (shipping, stock) the last pull, records today, the last error and the records it
could not apply (重新同步 each); this merchant's waiting work and webhooks; 立即同步."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, g, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from redis.exceptions import RedisError

from ..columns import utcnow
from ..extensions import redis_connection
from ..jobs import PULL_SOURCES, enqueue_pulls, retry_pull_issue
from ..queries.status import overview, pull_issue
from .auth import login_required
from .errors import error_response
from .forms import EmptyForm, empty_form_required
from .fragments import page_or_fragment

bp = Blueprint("status", __name__, url_prefix="/sync")
# kind -> (its section, what its records are about, its open issues, its records today)
PULL_LABELS = {
    "shipping": (_l("物流同步"), _l("订单号"), _l("未能同步的物流记录"), _l("今日拉取物流记录")),
    "stock": (_l("库存同步"), _l("商家编码"), _l("未能同步的库存记录"), _l("今日拉取库存记录")),
}


@bp.app_context_processor
def pull_labels():
    return {"pull_labels": PULL_LABELS}


def _render(message=None):
    view = overview(g.user.merchant_id, redis_connection(), ZoneInfo(current_app.config["TIMEZONE"]), utcnow())
    context = {"view": view, "form": EmptyForm(), "message": message}
    return page_or_fragment("status/index.html", "status/_overview.html", **context)


@bp.get("/")
@login_required
def index():
    """The sync status view (the fragment refreshes itself every 10 s)."""
    return _render()


@bp.post("/pull")
@login_required
@empty_form_required
def pull_now():
    """立即同步: queue every kind of pull from WDT (shipping, stock) for this merchant now."""
    try:
        enqueue_pulls(g.user.merchant_id)
    except RedisError:
        return error_response(503, _("任务队列暂不可用"), _("请稍后重试。"))
    return _render(("success", _("已开始同步，稍后刷新查看结果。")))


@bp.post("/issues/<kind>/<row_id:issue_id>/retry")
@login_required
@empty_form_required
def retry_issue(kind: str, issue_id: int):
    """重新同步: apply the kept record again, now; answers with its row (resolved, or why it still fails)."""
    if kind not in PULL_SOURCES:
        abort(404)
    try:
        summary = retry_pull_issue(kind, g.user.merchant_id, issue_id)
    except RedisError:
        return error_response(503, _("任务队列暂不可用"), _("请稍后重试。"))
    issue = pull_issue(g.user.merchant_id, kind, issue_id) or abort(404)
    status, outcome = 200, "applied" if issue.resolved_at else "failed"
    if summary is not None and summary.skipped:
        status, outcome = 409, "busy"
    return render_template("status/_issue.html", issue=issue, kind=kind, outcome=outcome, form=EmptyForm()), status
