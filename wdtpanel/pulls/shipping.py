"""Shipping comes back: WDT's logistics-sync queue becomes shipments, the mall hears of each, WDT gets its ack.
Runs on the pull skeleton (runner.py); a round's orders, known records and parcels are loaded in one query each."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import webhooks
from ..columns import utcnow
from ..extensions import db
from ..models import Order, Shipment, WdtConfig
from ..reasons import render
from ..states import PullKind, ShippingState
from ..wdt import EDITION_ENTERPRISE, LogisticsAck, LogisticsRecord, WdtClient
from ..wdt.payloads import enterprise_record, ultimate_record
from .runner import Applied, PullSummary

PULL_LIMIT = 100  # records per query (WDT's maximum)
ACK_APPLIED, ACK_KNOWN = "同步成功", "已同步"  # what WDT's staff read next to each record


class ShippingSource:
    kind = PullKind.SHIPPING

    def fetch(self, client: WdtClient, config: WdtConfig) -> Sequence[LogisticsRecord]:
        return client.query_logistics_sync(config.shop_no, PULL_LIMIT)

    def identity(self, record: LogisticsRecord) -> str:
        return record.rec_id

    def rebuild(self, config: WdtConfig, raw: dict) -> LogisticsRecord:
        return (enterprise_record if config.edition == EDITION_ENTERPRISE else ultimate_record)(raw)

    def acknowledge(self, client: WdtClient, records: Sequence[LogisticsRecord], results: list[Applied]) -> None:
        acks = [LogisticsAck(result.key, result.ok, ACK_APPLIED if result.ok else render(result.reason, result.params))
                for result in results]
        client.ack_logistics_sync(acks)  # a refused ack (already synced) needs nothing more from us

    def apply(self, config: WdtConfig, records: Sequence[LogisticsRecord], summary: PullSummary) -> list[Applied]:
        """Record each shipment once, whatever WDT resends: by record id, and by tracking no. plus lines."""
        merchant_id = config.merchant_id
        orders = {order.order_no: order for order in db.session.scalars(
            select(Order).where(Order.merchant_id == merchant_id, Order.order_no.in_({r.tid for r in records}))
            .options(selectinload(Order.lines)))}
        parcels: dict[int, list[Shipment]] = defaultdict(list)
        for shipment in db.session.scalars(select(Shipment).where(
                Shipment.merchant_id == merchant_id, Shipment.order_id.in_([o.id for o in orders.values()]))):
            parcels[shipment.order_id].append(shipment)
        known = set(db.session.scalars(select(Shipment.wdt_rec_id).where(
            Shipment.merchant_id == merchant_id, Shipment.wdt_rec_id.in_([r.rec_id for r in records]))))
        carriers = {mapping.wdt_code: mapping.mall_code for mapping in config.logistics}
        results, shipped = [], []
        for record in records:
            order = orders.get(record.tid)
            result, shipment = self._apply_one(record, order, carriers, parcels, known)
            results.append(result)
            if shipment is not None:
                shipped.append((order, shipment))
        deliveries = [webhooks.queue_event(merchant_id, webhooks.EVENT_SHIPMENT, shipment_event(order, shipment),
                                           order_id=order.id) for order, shipment in shipped]
        db.session.flush()
        summary.deliveries += [delivery.id for delivery in deliveries]
        return results

    @staticmethod
    def _apply_one(record: LogisticsRecord, order: Order | None, carriers: dict[str, str],
                   parcels: dict[int, list[Shipment]], known: set[str]) -> tuple[Applied, Shipment | None]:
        ok = Applied(record.rec_id, True, subject=record.tid, raw=record.raw)
        if record.rec_id in known:
            return ok, None
        if order is None:
            return Applied(record.rec_id, False, "unknown_order", {"tid": record.tid}, record.tid, record.raw), None
        carrier = carriers.get(record.logistics_code)
        if carrier is None:
            params = {"logistics_name": record.logistics_name, "logistics_code": record.logistics_code}
            return Applied(record.rec_id, False, "unmapped_carrier", params, record.tid, record.raw), None
        by_oid = {line.wdt_oid: line.mall_line_id for line in order.lines}
        line_ids = sorted(by_oid.get(oid, oid) for oid in record.oids) if record.is_part_sync else []
        if any(s.logistics_no == record.logistics_no and sorted(s.line_ids) == line_ids for s in parcels[order.id]):
            return ok, None  # the same parcel under a new record id
        shipment = Shipment(merchant_id=order.merchant_id, order_id=order.id, wdt_rec_id=record.rec_id,
                            logistics_no=record.logistics_no, wdt_logistics_code=record.logistics_code,
                            carrier_code=carrier, shipped_at=record.consign_time or utcnow(), line_ids=line_ids)
        db.session.add(shipment)
        parcels[order.id].append(shipment)
        known.add(record.rec_id)
        order.shipping_state = shipping_state(order, parcels[order.id])
        return ok, shipment


SHIPPING = ShippingSource()


def shipping_state(order: Order, shipments: list[Shipment]) -> ShippingState:
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


def enabled_merchant_ids() -> list[int]:
    return list(db.session.scalars(select(WdtConfig.merchant_id).where(WdtConfig.enabled.is_(True))))
