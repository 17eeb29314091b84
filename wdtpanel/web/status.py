"""同步状态: last pull, records today, pending webhooks, queue, WDT reachable, and 立即同步."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, g
from redis.exceptions import RedisError

from ..extensions import job_queue
from ..jobs import enqueue_pulls
from ..queries.status import overview
from .auth import login_required
from .forms import EmptyForm
from .fragments import page_or_fragment

bp = Blueprint("status", __name__, url_prefix="/sync")


def _render(message=None):
    context = {"view": overview(g.user.merchant_id, job_queue(), ZoneInfo(current_app.config["TIMEZONE"])),
               "form": EmptyForm(), "message": message}
    return page_or_fragment("status/index.html", "status/_overview.html", **context)


@bp.get("/")
@login_required
def index():
    """The sync status view (the fragment refreshes itself every 10 s)."""
    return _render()


@bp.post("/pull")
@login_required
def pull_now():
    """立即同步: queue a pull of WDT's shipping records for this merchant now."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        enqueue_pulls(g.user.merchant_id)
        message = ("success", "已开始同步，稍后刷新查看结果。 A pull was queued.")
    except RedisError:
        message = ("error", "任务队列暂不可用，请稍后重试。 The job queue is unavailable; try again shortly.")
    return _render(message)
