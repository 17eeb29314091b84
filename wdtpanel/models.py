"""The data model. Every row belongs to a merchant; queries are always scoped by merchant_id."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .columns import Money, UTCDateTime, utcnow
from .extensions import Model
from .states import GoodsPushState, OrderState, ShippingState, WebhookState

EDITIONS = ("enterprise", "ultimate")
ENVIRONMENTS = ("production", "sandbox", "custom")
ROLES = ("admin", "staff")


class Merchant(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    api_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    api_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    webhook_url: Mapped[str | None] = mapped_column(String(512))
    # The mall's own goods editor, a link template with {goods_id}, {spec_id}, {merchant_code}: the mall owns codes.
    goods_editor_url: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Model):
    __table_args__ = (UniqueConstraint("merchant_id", "username"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(256))  # None: signs in only through the mall's embed link
    role: Mapped[str] = mapped_column(String(16), default="staff")
    # Sessions carry the version they were made with; logging out bumps it, so copied cookies stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    merchant: Mapped[Merchant] = relationship()


class EmbedTokenUse(Model):
    """An embed link's id once used; the primary key makes a second use fail."""

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SeenSignature(Model):
    """The signature of a write the ingest API accepted; the same signature is refused until it expires (the end
    of its timestamp's replay window). Written in the transaction of the write; expired rows are purged."""

    __table_args__ = (UniqueConstraint("merchant_id", "signature"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"))
    signature: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # the purge spans merchants


class WdtConfig(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), unique=True)
    edition: Mapped[str] = mapped_column(String(16), default="enterprise")
    environment: Mapped[str] = mapped_column(String(16), default="production")
    custom_base_url: Mapped[str | None] = mapped_column(String(256))
    sid: Mapped[str] = mapped_column(String(64), default="")
    appkey: Mapped[str] = mapped_column(String(64), default="")
    appsecret_encrypted: Mapped[str | None] = mapped_column(Text)
    shop_no: Mapped[str] = mapped_column(String(40), default="")
    warehouse_no: Mapped[str] = mapped_column(String(40), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last time the switch went on
    # WDT's logistics companies as last listed by "test connection": [{code, name}]
    known_logistics: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    logistics: Mapped[list[LogisticsMapping]] = relationship(
        cascade="all, delete-orphan", order_by="LogisticsMapping.wdt_code"
    )


class LogisticsMapping(Model):
    """A logistics company the merchant ships with: WDT's code and the mall's carrier code."""

    __table_args__ = (UniqueConstraint("config_id", "wdt_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    config_id: Mapped[int] = mapped_column(ForeignKey("wdt_config.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    wdt_code: Mapped[str] = mapped_column(String(40))
    wdt_name: Mapped[str] = mapped_column(String(64), default="")
    mall_code: Mapped[str] = mapped_column(String(40))


class Goods(Model):
    __table_args__ = (UniqueConstraint("merchant_id", "mall_goods_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    mall_goods_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    merchant_code: Mapped[str | None] = mapped_column(String(64))  # 商家编码 of a single-spec goods
    on_shelf: Mapped[bool] = mapped_column(Boolean, default=True)
    mall_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    specs: Mapped[list[Spec]] = relationship(back_populates="goods", cascade="all, delete-orphan")


class Spec(Model):
    """A sellable SKU: a spec (规格) of a multi-spec goods, or the one implicit spec (mall_spec_id "") of a
    single-spec goods. Either way the 商家编码 WDT matches is here, and so is its push to WDT's platform goods."""

    __table_args__ = (
        UniqueConstraint("goods_id", "mall_spec_id"),
        Index("ix_spec_merchant_push_state", "merchant_id", "push_state", "id"),
        Index("ix_spec_merchant_code", "merchant_id", "merchant_code"),
        Index("ix_spec_push_run", "push_run_id", "push_state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    goods_id: Mapped[int] = mapped_column(ForeignKey("goods.id"), index=True)
    mall_spec_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255), default="")
    merchant_code: Mapped[str | None] = mapped_column(String(64))
    price: Mapped[Decimal | None] = mapped_column(Money)
    push_state: Mapped[str] = mapped_column(String(16), default=GoodsPushState.PENDING)
    push_reason: Mapped[str | None] = mapped_column(String(40))  # why the last try failed (a code of reasons.py)
    push_params: Mapped[dict] = mapped_column(JSON, default=dict)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last try
    # Bumped each time the spec must be pushed again: a push records its outcome only if the version it sent is
    # still the spec's, so a change arriving during the push is pushed too.
    push_version: Mapped[int] = mapped_column(Integer, default=1)
    push_digest: Mapped[str | None] = mapped_column(String(32))  # of the line last sent to WDT
    push_run_id: Mapped[int | None] = mapped_column(ForeignKey("goods_push_run.id"))  # the 全部推送 it belongs to
    goods: Mapped[Goods] = relationship(back_populates="specs")


class GoodsPushRun(Model):
    """推送全部商品: the whole catalogue marked for a push; its progress is read from the specs' states."""

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: started by switching the link on
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SpecStock(Model):
    """The last stock WDT reported for a SKU, as the mall was told it. Keyed by the mall's ids (a single-spec goods
    has spec id ""); `version` grows with every change, so the mall can drop an older event arriving late."""

    __table_args__ = (UniqueConstraint("merchant_id", "mall_goods_id", "mall_spec_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"))
    mall_goods_id: Mapped[str] = mapped_column(String(64))
    mall_spec_id: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[Decimal] = mapped_column(Money)
    wdt_rec_id: Mapped[str] = mapped_column(String(40))  # WDT's platform-goods row the stock came from
    change_count: Mapped[int] = mapped_column(Integer)  # WDT's stock_change_count of that row
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def spec_stock_of_spec(merchant_id: int) -> ColumnElement[bool]:
    """Joins a query's Goods and Spec to their SpecStock row (the two are keyed by the mall's ids)."""
    return and_(
        SpecStock.merchant_id == merchant_id,
        SpecStock.mall_goods_id == Goods.mall_goods_id,
        SpecStock.mall_spec_id == Spec.mall_spec_id,
    )


LISTED_SQL = "sync_state IN ('abnormal', 'unconfirmed', 'historical')"


class Order(Model):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("merchant_id", "order_no"),
        Index("ix_order_merchant_state_id", "merchant_id", "sync_state", "id"),
        # The abnormal list: newest first within a state, and within a reason.
        Index("ix_order_merchant_state_time", "merchant_id", "sync_state", "ordered_at", "id"),
        Index("ix_order_merchant_reason_time", "merchant_id", "sync_state", "sync_reason", "ordered_at", "id"),
        # The 异常订单 list with every listed state, newest first (partial: only listed orders are in it). PostgreSQL
        # also has trigram indexes for the partial search on order no. and merchant code (migration b7e3c9a1d4f2).
        Index(
            "ix_order_listed_time",
            "merchant_id",
            "ordered_at",
            "id",
            postgresql_where=text(LISTED_SQL),
            sqlite_where=text(LISTED_SQL),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"))
    order_no: Mapped[str] = mapped_column(String(40))  # the mall's order number, WDT's tid
    mall_status: Mapped[str] = mapped_column(String(24))
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mall_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    buyer_nick: Mapped[str] = mapped_column(String(100), default="")
    buyer_message: Mapped[str] = mapped_column(String(512), default="")
    seller_memo: Mapped[str] = mapped_column(String(512), default="")
    receiver_name: Mapped[str] = mapped_column(String(64), default="")
    receiver_mobile: Mapped[str] = mapped_column(String(32), default="")
    receiver_phone: Mapped[str] = mapped_column(String(32), default="")
    receiver_province: Mapped[str] = mapped_column(String(32), default="")
    receiver_city: Mapped[str] = mapped_column(String(32), default="")
    receiver_district: Mapped[str] = mapped_column(String(32), default="")
    receiver_address: Mapped[str] = mapped_column(String(256), default="")
    receiver_zip: Mapped[str] = mapped_column(String(16), default="")
    post_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    discount_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    paid_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # Sync with WDT: the durable state the pipeline and the sweeper work from.
    sync_state: Mapped[str] = mapped_column(String(16), default=OrderState.PENDING)
    sync_reason: Mapped[str | None] = mapped_column(String(40))  # a code of wdtpanel/reasons.py
    sync_params: Mapped[dict] = mapped_column(JSON, default=dict)  # the reason's parameters (WDT's text: detail)
    push_attempts: Mapped[int] = mapped_column(Integer, default=0)  # all tries ever (the history lists each)
    retry_count: Mapped[int] = mapped_column(Integer, default=0)  # transient failures since the last fresh start
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snapshot_version: Mapped[int] = mapped_column(Integer, default=1)
    pushed_version: Mapped[int | None] = mapped_column(Integer)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last time a push job was queued
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # after a transient failure
    # A worker holds the order while pushing it; the lease expires if the worker dies.
    claim_token: Mapped[str | None] = mapped_column(String(36))
    shipping_state: Mapped[str] = mapped_column(String(16), default=ShippingState.NONE)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )


class OrderLine(Model):
    __table_args__ = (UniqueConstraint("order_id", "mall_line_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))  # indexed by the unique (order_id, mall_line_id)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    mall_line_id: Mapped[str] = mapped_column(String(40))  # the mall's own line id (unique within the order)
    wdt_oid: Mapped[str] = mapped_column(String(40))  # the oid WDT knows the line by: unique per merchant, fixed
    mall_goods_id: Mapped[str] = mapped_column(String(64))
    mall_spec_id: Mapped[str] = mapped_column(String(64), default="")
    goods_name: Mapped[str] = mapped_column(String(255))
    spec_name: Mapped[str] = mapped_column(String(255), default="")
    merchant_code: Mapped[str | None] = mapped_column(String(64), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Money)
    discount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    refund_status: Mapped[str] = mapped_column(String(16), default="none")
    refund_kind: Mapped[str | None] = mapped_column(String(24))  # RefundKind, when the buyer asked for a refund
    # The after-shipment refund status WDT's refund interface last accepted for this line.
    refund_pushed_status: Mapped[str] = mapped_column(String(16), default="none")
    order: Mapped[Order] = relationship(back_populates="lines")


class PushAttempt(Model):
    """One try to push an order to WDT: when, how it ended, WDT's words, and what was sent (redacted)."""

    __table_args__ = (Index("ix_push_attempt_order_id", "order_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))  # AttemptOutcome
    reason: Mapped[str | None] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    wdt_message: Mapped[str | None] = mapped_column(Text)
    payload_version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)


class BulkRepush(Model):
    """A bulk 订单重推 a staff member started; its progress is read from the orders' states."""

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    order_ids: Mapped[list] = mapped_column(JSON, default=list)
    refused: Mapped[int] = mapped_column(Integer, default=0)  # historical rows among those selected
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Shipment(Model):
    """A parcel of an order as WDT's logistics sync reported it (pulls/shipping.py)."""

    __table_args__ = (UniqueConstraint("merchant_id", "wdt_rec_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    wdt_rec_id: Mapped[str] = mapped_column(String(40))  # the sync record's rec_id / sync_id
    logistics_no: Mapped[str] = mapped_column(String(64))
    wdt_logistics_code: Mapped[str] = mapped_column(String(40))
    carrier_code: Mapped[str] = mapped_column(String(40))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    line_ids: Mapped[list] = mapped_column(JSON, default=list)  # mall line ids; empty = whole order
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PullIssue(Model):
    """A record a pull brought back that the panel could not apply yet (unknown order, unmapped carrier, ...).
    The record is kept whole and applied once its cause is fixed; then the issue is resolved."""

    __table_args__ = (
        UniqueConstraint("merchant_id", "kind", "record_key"),
        Index("ix_pull_issue_open", "merchant_id", "kind", "resolved_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"))
    kind: Mapped[str] = mapped_column(String(16))  # PullKind
    record_key: Mapped[str] = mapped_column(String(64))  # WDT's rec_id / sync_id
    subject: Mapped[str] = mapped_column(String(64), default="")  # the tid or merchant code it concerns
    reason: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    record: Mapped[dict] = mapped_column(JSON, default=dict)  # the record as WDT sent it
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SyncStatus(Model):
    """A merchant's last pull of one kind: when it ran, when it last worked, and the last error."""

    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # PullKind
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wdt_reachable: Mapped[bool | None] = mapped_column(Boolean)
    last_error_reason: Mapped[str | None] = mapped_column(String(40))
    last_error_params: Mapped[dict] = mapped_column(JSON, default=dict)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    records_today: Mapped[int] = mapped_column(Integer, default=0)  # records WDT brought on `records_day`
    records_day: Mapped[date | None] = mapped_column(Date)  # in the panel's time zone


class WebhookDelivery(Model):
    """Outbox of events for the mall, written in the same transaction as the change they report."""

    __table_args__ = (
        Index("ix_webhook_delivery_state", "state", "next_attempt_at"),
        Index("ix_webhook_delivery_order", "merchant_id", "order_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))  # the order it reports on, if one
    event: Mapped[str] = mapped_column(String(32))  # shipment.created | order.abnormal | stock.changed
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default=WebhookState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Model):
    __table_args__ = (Index("ix_audit_merchant_id_desc", "merchant_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
