"""Shipping comes back: drain WDT's logistics-sync queue, record shipments, tell the mall, ack to WDT."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time

from sqlalchemy import func, select

from ..extensions import db
from ..models import Order, PullIssue, Shipment, SyncStatus, WdtConfig
from ..columns import utcnow
from ..wdt import LogisticsAck, LogisticsRecord, WdtError
from .. import webhooks
from ..merchant_config import client_for, load_config
from ..reasons import render
from ..states import PullKind, ShippingState

log = logging.getLogger(__name__)

PULL_LIMIT = 100  # records per query (WDT's maximum)
MAX_ROUNDS = 500  # bound one run (50,000 records); the next run continues


@dataclass
class PullSummary:
    records: int = 0
    shipments: int = 0
    failed: int = 0
    error: str | None = None
    deliveries: list[int] = field(default_factory=list)


def _status(merchant_id: int) -> SyncStatus:
    status = db.session.get(SyncStatus, (merchant_id, PullKind.SHIPPING))
    if status is None:
        status = SyncStatus(merchant_id=merchant_id, kind=PullKind.SHIPPING, last_error_params={})
        db.session.add(status)
    return status


def pull(merchant_id: int) -> PullSummary:
    """Drain the queue in rounds of 100: apply each record, then ack the round (ok or failed, with the reason)."""
    summary = PullSummary()
    config = load_config(merchant_id)
    if config is None or not config.enabled:
        return summary
    client = client_for(config)
    status = _status(merchant_id)
    status.last_pull_at = utcnow()
    db.session.commit()
    try:
        for _ in range(MAX_ROUNDS):
            records = client.query_logistics_sync(config.shop_no, PULL_LIMIT)
            if not records:
                break
            acks = [apply_record(config, record, summary) for record in records]
            db.session.commit()  # the round is recorded before WDT hears of it: a lost ack only means a resend
            for rec_id, error in client.ack_logistics_sync(acks).items():
                if error:
                    log.warning("WDT refused the ack of record %s: %s", rec_id, error)
            summary.records += len(records)
    except WdtError as error:
        summary.error = error.code
        status = _status(merchant_id)
        status.wdt_reachable = not error.transient
        status.last_error_reason, status.last_error_params, status.last_error_at = error.code, error.params, utcnow()
        db.session.commit()
        return summary
    status = _status(merchant_id)
    status.last_success_at, status.wdt_reachable = utcnow(), True
    db.session.commit()
    return summary


def apply_record(config: WdtConfig, record: LogisticsRecord, summary: PullSummary) -> LogisticsAck:
    """Record one shipment (once, whatever WDT resends) and say how to ack it. The caller commits."""
    merchant_id = config.merchant_id
    if db.session.scalar(select(Shipment.id).where(Shipment.merchant_id == merchant_id,
                                                   Shipment.wdt_rec_id == record.rec_id)):
        return LogisticsAck(record.rec_id, True, "已同步")
    order = db.session.scalar(select(Order).where(Order.merchant_id == merchant_id, Order.order_no == record.tid))
    if order is None:
        return _refuse(merchant_id, record, "unknown_order", {"tid": record.tid}, summary)
    carrier = next((m.mall_code for m in config.logistics if m.wdt_code == record.logistics_code), None)
    if carrier is None:
        return _refuse(merchant_id, record, "unmapped_carrier",
                       {"logistics_name": record.logistics_name, "logistics_code": record.logistics_code}, summary)
    by_oid = {line.wdt_oid: line.mall_line_id for line in order.lines}
    line_ids = sorted(by_oid.get(oid, oid) for oid in record.oids) if record.is_part_sync else []
    if _same_parcel_recorded(order, record.logistics_no, line_ids):
        return LogisticsAck(record.rec_id, True, "已同步")
    shipment = Shipment(merchant_id=merchant_id, order_id=order.id, wdt_rec_id=record.rec_id,
                        logistics_no=record.logistics_no, wdt_logistics_code=record.logistics_code,
                        carrier_code=carrier, shipped_at=record.consign_time or utcnow(), line_ids=line_ids)
    db.session.add(shipment)
    db.session.flush()
    order.shipping_state = shipping_state(order)
    delivery = webhooks.queue_event(merchant_id, webhooks.EVENT_SHIPMENT, shipment_event(order, shipment),
                                    order_id=order.id)
    db.session.flush()
    summary.shipments += 1
    summary.deliveries.append(delivery.id)
    return LogisticsAck(record.rec_id, True, "同步成功")


def _same_parcel_recorded(order: Order, logistics_no: str, line_ids: list[str]) -> bool:
    """WDT may resend a parcel under a new record id; the same tracking no. and lines is the same parcel."""
    known = db.session.scalars(select(Shipment).where(Shipment.order_id == order.id,
                                                      Shipment.logistics_no == logistics_no))
    return any(sorted(s.line_ids) == line_ids for s in known)


def _refuse(merchant_id: int, record: LogisticsRecord, reason: str, params: dict, summary: PullSummary) -> LogisticsAck:
    db.session.add(PullIssue(merchant_id=merchant_id, kind=PullKind.SHIPPING, record_key=record.rec_id,
                             subject=record.tid, reason=reason, params=params, record=record.raw))
    summary.failed += 1
    return LogisticsAck(record.rec_id, False, render(reason, params))


def shipping_state(order: Order) -> str:
    shipments = db.session.scalars(select(Shipment).where(Shipment.order_id == order.id)).all()
    if not shipments:
        return ShippingState.NONE
    if any(not s.line_ids for s in shipments):
        return ShippingState.SHIPPED
    shipped = {line_id for s in shipments for line_id in s.line_ids}
    return ShippingState.SHIPPED if shipped >= {line.mall_line_id for line in order.lines} else ShippingState.PARTIAL


def shipment_event(order: Order, shipment: Shipment) -> dict:
    return {"order_no": order.order_no, "shipping_state": order.shipping_state, **shipment_view(shipment)}


def shipment_view(shipment: Shipment) -> dict:
    return {"tracking_no": shipment.logistics_no, "carrier_code": shipment.carrier_code,
            "wdt_logistics_code": shipment.wdt_logistics_code,
            "shipped_at": shipment.shipped_at.isoformat() if shipment.shipped_at else None,
            "line_ids": shipment.line_ids}


def shipments_of(order: Order) -> list[Shipment]:
    return list(db.session.scalars(select(Shipment).where(Shipment.merchant_id == order.merchant_id,
                                                          Shipment.order_id == order.id).order_by(Shipment.id)))


def pulled_today(merchant_id: int, zone) -> int:
    start = datetime.combine(datetime.now(zone).date(), time(), zone)
    shipments = db.session.scalar(select(func.count()).select_from(Shipment).where(
        Shipment.merchant_id == merchant_id, Shipment.created_at >= start))
    issues = db.session.scalar(select(func.count()).select_from(PullIssue).where(
        PullIssue.merchant_id == merchant_id, PullIssue.kind == PullKind.SHIPPING, PullIssue.created_at >= start))
    return shipments + issues


def recent_issues(merchant_id: int, limit: int = 20) -> list[PullIssue]:
    return list(db.session.scalars(select(PullIssue).where(PullIssue.merchant_id == merchant_id,
                                                           PullIssue.resolved_at.is_(None))
                                   .order_by(PullIssue.id.desc()).limit(limit)))


def enabled_merchant_ids() -> list[int]:
    return list(db.session.scalars(select(WdtConfig.merchant_id).where(WdtConfig.enabled.is_(True))))
