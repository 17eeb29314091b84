"""The merchant's sync status at a glance: each kind of pull (its status row and the records it could not apply),
its own work waiting (from the database: the RQ queues are shared by every merchant), webhooks, WDT reachability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import select

from .. import webhooks
from ..extensions import count_rows, db
from ..models import Merchant, Order, PullIssue, SyncStatus
from ..pulls.runner import open_issues
from ..states import OrderState, PullKind
from .goods import pending_count
from .lookup import state_condition


@dataclass
class PullView:
    """One kind of pull: its last runs and what it could not apply."""

    kind: PullKind
    status: SyncStatus | None
    records_today: int
    issues: list[PullIssue]


@dataclass
class SyncOverview:
    pulls: list[PullView]
    pending_webhooks: int
    webhook_url: str | None
    waiting_orders: dict[str, int]  # queued | pushing | retry -> this merchant's pending orders
    abnormal_orders: int
    waiting_specs: int  # SKUs waiting for their push to WDT
    queue_available: bool  # Redis answers (the jobs themselves are counted from the database)


def waiting_orders(merchant_id: int, now: datetime) -> dict[str, int]:
    """This merchant's orders on their way to WDT, by what they wait for."""
    return {
        state: count_rows(Order, Order.merchant_id == merchant_id, state_condition(state, now))
        for state in ("queued", "pushing", "retry")
    }


def pull_view(merchant_id: int, kind: PullKind, zone: ZoneInfo, now: datetime) -> PullView:
    status = db.session.get(SyncStatus, (merchant_id, kind))
    today = now.astimezone(zone).date()
    records = status.records_today if status is not None and status.records_day == today else 0
    return PullView(kind, status, records, open_issues(merchant_id, kind))


def overview(merchant_id: int, redis: Redis, zone: ZoneInfo, now: datetime) -> SyncOverview:
    try:
        available = bool(redis.ping())
    except RedisError:
        available = False
    merchant = db.session.get_one(Merchant, merchant_id)
    abnormal = count_rows(Order, Order.merchant_id == merchant_id, Order.sync_state == OrderState.ABNORMAL)
    return SyncOverview(
        pulls=[pull_view(merchant_id, kind, zone, now) for kind in PullKind],
        pending_webhooks=webhooks.pending_count(merchant_id),
        webhook_url=merchant.webhook_url,
        waiting_orders=waiting_orders(merchant_id, now),
        abnormal_orders=abnormal,
        waiting_specs=pending_count(merchant_id),
        queue_available=available,
    )


def pull_issue(merchant_id: int, kind: str, issue_id: int) -> PullIssue | None:
    return db.session.scalar(
        select(PullIssue).where(PullIssue.merchant_id == merchant_id, PullIssue.kind == kind, PullIssue.id == issue_id)
    )
