"""The merchant's sync status at a glance: pulls, its own work waiting (from the database: the RQ queues are shared
by every merchant), webhooks, WDT reachability."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select

from ..extensions import db
from ..models import Merchant, Order, PullIssue, SyncStatus
from ..states import OrderState, PullKind
from .. import webhooks
from ..pulls import shipping
from ..pulls.runner import open_issues
from .lookup import state_condition


@dataclass
class SyncOverview:
    status: SyncStatus | None
    pulled_today: int
    pending_webhooks: int
    webhook_url: str | None
    waiting_orders: dict[str, int]  # queued | pushing | retry -> this merchant's pending orders
    abnormal_orders: int
    queue_available: bool  # Redis answers (the jobs themselves are counted from the database)
    issues: list[PullIssue]


def waiting_orders(merchant_id: int, now: datetime) -> dict[str, int]:
    """This merchant's orders on their way to WDT, by what they wait for."""
    return {state: db.session.scalar(select(func.count()).select_from(Order).where(
        Order.merchant_id == merchant_id, state_condition(state, now))) for state in ("queued", "pushing", "retry")}


def overview(merchant_id: int, redis: Redis, zone: ZoneInfo, now: datetime) -> SyncOverview:
    try:
        available = bool(redis.ping())
    except RedisError:
        available = False
    merchant = db.session.get(Merchant, merchant_id)
    abnormal = db.session.scalar(select(func.count()).select_from(Order).where(
        Order.merchant_id == merchant_id, Order.sync_state == OrderState.ABNORMAL))
    return SyncOverview(
        status=db.session.get(SyncStatus, (merchant_id, PullKind.SHIPPING)),
        pulled_today=shipping.pulled_today(merchant_id, zone), pending_webhooks=webhooks.pending_count(merchant_id),
        webhook_url=merchant.webhook_url, waiting_orders=waiting_orders(merchant_id, now), abnormal_orders=abnormal,
        queue_available=available, issues=open_issues(merchant_id, PullKind.SHIPPING),
    )
