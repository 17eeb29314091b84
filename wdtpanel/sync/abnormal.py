"""旺店通异常订单: the failed (and historical) orders staff look at, their reasons, and bulk re-push."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, or_, select, tuple_

from ..extensions import db
from ..models import BulkRepush, Order, OrderLine, PushAttempt, User
from . import audit
from .orders import HISTORICAL_MESSAGE, RepushRefused, mark_for_repush

LISTED_STATES = ("abnormal", "historical")
PAGE_SIZE = 50

# Reason code -> what staff read. Codes come from the push checks (sync/orders.py) and WDT errors (wdt/errors.py).
REASONS = {
    "missing_merchant_code": "缺少商家编码",
    "unknown_merchant_code": "商家编码在旺店通中不存在",
    "config_incomplete": "旺店通配置不完整",
    "auth_failed": "接口账号错误（appkey/appsecret）",
    "unknown_sid": "sid 不存在",
    "unknown_shop": "店铺编号不存在",
    "shop_not_own_platform": "店铺不是自有平台",
    "unknown_warehouse": "仓库编号不存在",
    "line_changed": "商品数量或单价已改变",
    "refund_rejected": "退款单被拒绝",
    "network": "旺店通无法连接",
    "timeout": "旺店通响应超时",
    "http_5xx": "旺店通服务出错",
    "rate_limited": "调用太频繁被限流",
    "clock_skew": "服务器时间不准",
    "bad_response": "旺店通返回了无法识别的内容",
    "business": "旺店通拒绝了订单",
    "historical": "历史订单不能重推",
}
TRANSIENT_REASONS = ("network", "timeout", "http_5xx", "rate_limited", "clock_skew", "bad_response")


def reason_label(order: Order) -> str:
    if order.sync_state == "historical":
        return REASONS["historical"]
    label = REASONS.get(order.sync_reason or "", order.sync_reason or "未知原因")
    if order.sync_reason in TRANSIENT_REASONS:
        return f"{label}（已尝试 {order.push_attempts} 次）"
    return label


def row_state(order: Order, now: datetime) -> str:
    """queued | pushing | pushed | abnormal | historical: what the row shows."""
    if order.sync_state == "pending":
        return "pushing" if order.claimed_until and order.claimed_until > now else "queued"
    return order.sync_state


@dataclass
class Filters:
    reason: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    cursor: str = ""


@dataclass
class Page:
    orders: list[Order]
    next_cursor: str | None


def encode_cursor(order: Order) -> str:
    raw = f"{order.ordered_at.isoformat()}|{order.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, order_id = raw.split("|")
        return datetime.fromisoformat(moment), int(order_id)
    except (ValueError, UnicodeDecodeError):
        return None


def _filtered(merchant_id: int, filters: Filters, zone: ZoneInfo):
    query = select(Order).where(Order.merchant_id == merchant_id)
    if filters.reason == "historical":
        query = query.where(Order.sync_state == "historical")
    elif filters.reason:
        query = query.where(Order.sync_state == "abnormal", Order.sync_reason == filters.reason)
    else:
        query = query.where(Order.sync_state.in_(LISTED_STATES))
    if filters.date_from:
        query = query.where(Order.ordered_at >= datetime.combine(filters.date_from, time(), zone))
    if filters.date_to:
        query = query.where(Order.ordered_at < datetime.combine(filters.date_to + timedelta(days=1), time(), zone))
    if filters.q:
        by_code = exists().where(OrderLine.order_id == Order.id, OrderLine.merchant_code == filters.q)
        query = query.where(or_(Order.order_no == filters.q, by_code))
    return query


def list_page(merchant_id: int, filters: Filters, zone: ZoneInfo, size: int = PAGE_SIZE) -> Page:
    """Newest first, keyset pagination on (ordered_at, id): as fast on page 1,000 as on page 1."""
    query = _filtered(merchant_id, filters, zone)
    position = decode_cursor(filters.cursor) if filters.cursor else None
    if position:
        query = query.where(tuple_(Order.ordered_at, Order.id) < tuple_(*position))
    rows = db.session.scalars(query.order_by(Order.ordered_at.desc(), Order.id.desc()).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, encode_cursor(rows[-1]) if more else None)


def reason_counts(merchant_id: int) -> dict[str, int]:
    abnormal = db.session.execute(
        select(Order.sync_reason, func.count()).where(Order.merchant_id == merchant_id, Order.sync_state == "abnormal")
        .group_by(Order.sync_reason)
    ).all()
    counts = {reason or "business": count for reason, count in abnormal}
    historical = db.session.scalar(select(func.count()).select_from(Order).where(
        Order.merchant_id == merchant_id, Order.sync_state == "historical"))
    if historical:
        counts["historical"] = historical
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def orders_by_id(merchant_id: int, order_ids: list[int]) -> list[Order]:
    return list(db.session.scalars(select(Order).where(Order.merchant_id == merchant_id, Order.id.in_(order_ids))))


def attempts_of(order: Order) -> list[PushAttempt]:
    return list(db.session.scalars(select(PushAttempt).where(
        PushAttempt.merchant_id == order.merchant_id, PushAttempt.order_id == order.id).order_by(PushAttempt.id.desc())))


def fix_hint(order: Order) -> tuple[str, str | None] | None:
    """(what to do, a merchant code or spec to look up in the goods view)."""
    if order.sync_state == "historical":
        return (HISTORICAL_MESSAGE, None)
    if order.sync_reason == "missing_merchant_code":
        line = next((line for line in order.lines if not line.merchant_code), None)
        if line:
            name = line.spec_name or line.goods_name
            return (f"为规格「{name}」填写商家编码", line.mall_spec_id or line.mall_goods_id)
    if order.sync_reason == "unknown_merchant_code":
        return ("在旺店通 货品 → 单品列表 中核对商家编码是否一一对应", None)
    if order.sync_reason in ("config_incomplete", "auth_failed", "unknown_sid", "unknown_shop",
                             "shop_not_own_platform", "unknown_warehouse"):
        return ("在 旺店通配置 中改正后点击“测试连接”，再重推", None)
    if order.sync_reason in TRANSIENT_REASONS:
        return ("旺店通暂时不可用：稍后重推即可", None)
    return None


def repush(merchant_id: int, user: User, order_id: int) -> Order:
    """订单重推 on one row: back to pending, audited. Raises RepushRefused (historical, …)."""
    order = mark_for_repush(merchant_id, order_id)
    audit.record(merchant_id, user, "order.repush", order.order_no)
    db.session.commit()
    return order


def start_bulk_repush(merchant_id: int, user: User, order_ids: list[int]) -> tuple[BulkRepush, list[int]]:
    """Re-push many rows: historical ones are skipped (and counted), the others go back to pending."""
    queued, refused = [], 0
    for order_id in order_ids:
        try:
            queued.append(mark_for_repush(merchant_id, order_id).id)
        except RepushRefused:
            refused += 1
    bulk = BulkRepush(merchant_id=merchant_id, user_id=user.id, order_ids=queued, refused=refused)
    db.session.add(bulk)
    audit.record(merchant_id, user, "order.bulk_repush", f"{len(queued)} orders", {"refused": refused})
    db.session.commit()
    return bulk, queued


BULK_LIMIT = 10_000  # rows one bulk re-push takes (the rest: press again)


def matching_ids(merchant_id: int, filters: Filters, zone: ZoneInfo, limit: int = BULK_LIMIT) -> list[int]:
    query = _filtered(merchant_id, filters, zone).where(Order.sync_state == "abnormal").with_only_columns(Order.id)
    return list(db.session.scalars(query.limit(limit)))


@dataclass
class BulkProgress:
    total: int
    done: int
    pushed: int
    failed: int
    refused: int

    @property
    def finished(self) -> bool:
        return self.done >= self.total


def bulk_progress(merchant_id: int, bulk_id: int) -> BulkProgress | None:
    bulk = db.session.scalar(select(BulkRepush).where(BulkRepush.merchant_id == merchant_id, BulkRepush.id == bulk_id))
    if bulk is None:
        return None
    states = dict(db.session.execute(
        select(Order.sync_state, func.count()).where(Order.merchant_id == merchant_id, Order.id.in_(bulk.order_ids))
        .group_by(Order.sync_state)).all())
    pushed, failed = states.get("pushed", 0), states.get("abnormal", 0)
    return BulkProgress(len(bulk.order_ids), pushed + failed, pushed, failed, bulk.refused)
