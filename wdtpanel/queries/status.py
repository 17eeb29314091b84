"""The merchant's sync status at a glance: pulls, webhooks, the job queue, WDT reachability."""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from redis.exceptions import RedisError
from rq import Queue

from ..extensions import db
from ..models import Merchant, PullIssue, SyncStatus
from ..states import PullKind
from .. import webhooks
from ..pulls import shipping
from ..pulls.runner import open_issues


@dataclass
class SyncOverview:
    status: SyncStatus | None
    pulled_today: int
    pending_webhooks: int
    webhook_url: str | None
    queue_depth: int | None  # None: Redis unreachable
    failed_jobs: int | None
    issues: list[PullIssue]


def overview(merchant_id: int, queue: Queue, zone: ZoneInfo) -> SyncOverview:
    try:
        depth, failed = queue.count, queue.failed_job_registry.count
    except RedisError:
        depth = failed = None
    merchant = db.session.get(Merchant, merchant_id)
    return SyncOverview(
        status=db.session.get(SyncStatus, (merchant_id, PullKind.SHIPPING)), pulled_today=shipping.pulled_today(merchant_id, zone),
        pending_webhooks=webhooks.pending_count(merchant_id), webhook_url=merchant.webhook_url,
        queue_depth=depth, failed_jobs=failed, issues=open_issues(merchant_id, PullKind.SHIPPING),
    )

