"""The states rows move through. Stored as their string values; compare and assign the members."""

from __future__ import annotations

from enum import StrEnum


class OrderState(StrEnum):
    """An order's sync with WDT (`Order.sync_state`)."""

    PENDING = "pending"  # to be pushed (queued, waiting for a retry, or being pushed)
    PUSHED = "pushed"  # WDT holds the current snapshot
    ABNORMAL = "abnormal"  # WDT refused it, or we know it is not there; staff fix and re-push
    UNCONFIRMED = "unconfirmed"  # the answer was lost and WDT offers no way to ask; the next push settles it
    HISTORICAL = "historical"  # created before the integration was switched on: never pushed


class AttemptOutcome(StrEnum):
    """How one push attempt ended (`PushAttempt.outcome`)."""

    PUSHED = "pushed"
    ABNORMAL = "abnormal"
    RETRY = "retry"
    UNCONFIRMED = "unconfirmed"


class ShippingState(StrEnum):
    NONE = "none"
    PARTIAL = "partial"
    SHIPPED = "shipped"


class WebhookState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"


class GoodsPushState(StrEnum):
    """A SKU's push to WDT's platform goods (`Spec.push_state`)."""

    PENDING = "pending"  # to be pushed (changed, or asked for, since the last push)
    PUSHED = "pushed"  # WDT holds what the spec is now
    FAILED = "failed"  # WDT refused it, or it cannot be sent (no 商家编码); fixed by a change or 推送到旺店通


class PullKind(StrEnum):
    """What a pull brings back from WDT (`SyncStatus.kind`, `PullIssue.kind`)."""

    SHIPPING = "shipping"
    STOCK = "stock"


class RefundKind(StrEnum):
    """What the buyer asked for on a line (the mall's 售后 type)."""

    REFUND_ONLY = "refund_only"  # 仅退款
    RETURN_AND_REFUND = "return_and_refund"  # 退货退款
