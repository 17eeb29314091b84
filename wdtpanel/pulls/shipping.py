"""Shipping comes back: WDT's logistics-sync queue becomes shipments, the mall hears of each, WDT gets its ack.
Runs on the pull skeleton (runner.py); a round's orders, known records and parcels are loaded in one query each."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update

from .. import webhooks
from ..bulk import insert_rows
from ..columns import utcnow
from ..extensions import db
from ..models import Order, OrderLine, Shipment, WdtConfig
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

    def refused(self, record: LogisticsRecord, reason: str, params: dict) -> Applied:
        return _refused(record, reason, params)

    def acknowledge(self, client: WdtClient, records: Sequence[LogisticsRecord], results: list[Applied]) -> None:
        acks = [
            LogisticsAck(result.key, result.ok, ACK_APPLIED if result.ok else render(result.reason, result.params))
            for result in results
        ]
        client.ack_logistics_sync(acks)  # a refused ack (already synced) needs nothing more from us

    def apply(self, config: WdtConfig, records: Sequence[LogisticsRecord], summary: PullSummary) -> list[Applied]:
        """Record each shipment once, whatever WDT resends: by record id, and by tracking no. plus lines. The round's
        orders, lines, parcels and known records are read in one query each and written in one statement each."""
        merchant_id = config.merchant_id
        orders: dict[str, int] = {}  # order no. -> id
        lines: dict[int, dict[str, str]] = defaultdict(dict)  # order id -> wdt oid -> mall line id
        recorded: dict[int, dict[str, Parcel]] = defaultdict(dict)  # order id -> record id -> its parcel
        for order_no, order_id, oid, line_id, rec_id, logistics_no, line_ids in db.session.execute(
            select(
                Order.order_no,
                Order.id,
                OrderLine.wdt_oid,
                OrderLine.mall_line_id,
                Shipment.wdt_rec_id,
                Shipment.logistics_no,
                Shipment.line_ids,
            )
            .outerjoin(OrderLine, OrderLine.order_id == Order.id)
            .outerjoin(Shipment, Shipment.order_id == Order.id)
            .where(Order.merchant_id == merchant_id, Order.order_no.in_({r.tid for r in records}))
        ):
            orders[order_no] = order_id  # one row per line and parcel of each order: the round in one query
            if oid is not None:
                lines[order_id][oid] = line_id
            if rec_id is not None:
                recorded[order_id][rec_id] = Parcel(logistics_no, sorted(line_ids))
        parcels = defaultdict(list, {order_id: list(by_record.values()) for order_id, by_record in recorded.items()})
        known = {rec_id for by_record in recorded.values() for rec_id in by_record}  # a recorded record's order
        # is among these: its tid
        carriers = {mapping.wdt_code: mapping.mall_code for mapping in config.logistics}
        results, shipments = [], []
        for record in records:
            result, shipment = _apply_one(record, orders.get(record.tid), carriers, lines, parcels, known)
            results.append(result)
            if shipment is not None:
                shipment["merchant_id"] = merchant_id
                shipments.append(shipment)
        if shipments:
            _record(merchant_id, shipments, lines, parcels, {order_id: no for no, order_id in orders.items()}, summary)
        return results


@dataclass
class Parcel:
    logistics_no: str
    line_ids: list[str]  # sorted; empty: the whole order


def _refused(record: LogisticsRecord, reason: str, params: dict) -> Applied:
    return Applied(record.rec_id, False, reason, params, record.tid, record.raw)


def _apply_one(
    record: LogisticsRecord,
    order_id: int | None,
    carriers: dict[str, str],
    lines: dict[int, dict[str, str]],
    parcels: dict[int, list[Parcel]],
    known: set[str],
) -> tuple[Applied, dict | None]:
    ok = Applied(record.rec_id, True, subject=record.tid, raw=record.raw)
    if record.rec_id in known:
        return ok, None
    if order_id is None:
        return _refused(record, "unknown_order", {"tid": record.tid}), None
    carrier = carriers.get(record.logistics_code)
    if carrier is None:
        params = {"logistics_name": record.logistics_name, "logistics_code": record.logistics_code}
        return _refused(record, "unmapped_carrier", params), None
    line_ids = sorted(lines[order_id].get(oid, oid) for oid in record.oids) if record.is_part_sync else []
    if any(p.logistics_no == record.logistics_no and p.line_ids == line_ids for p in parcels[order_id]):
        return ok, None  # the same parcel under a new record id
    parcels[order_id].append(Parcel(record.logistics_no, line_ids))
    known.add(record.rec_id)
    return ok, {
        "order_id": order_id,
        "wdt_rec_id": record.rec_id,
        "logistics_no": record.logistics_no,
        "wdt_logistics_code": record.logistics_code,
        "carrier_code": carrier,
        "shipped_at": record.consign_time or utcnow(),
        "line_ids": line_ids,
    }


def _record(
    merchant_id: int,
    shipments: list[dict],
    lines: dict[int, dict[str, str]],
    parcels: dict[int, list[Parcel]],
    order_nos: dict[int, str],
    summary: PullSummary,
) -> None:
    """The round's new shipments, the orders' shipping states and the mall's events: one statement each. A record
    id recorded already (under another tid: WDT talking nonsense) is skipped, not allowed to fail the round."""
    table = Shipment.__table__
    inserted = set(insert_rows(table, shipments, table.c.wdt_rec_id, ignore_conflicts=True))
    shipments = [shipment for shipment in shipments if shipment["wdt_rec_id"] in inserted]
    if not shipments:
        return
    states: dict[ShippingState, list[int]] = defaultdict(list)
    for order_id in {shipment["order_id"] for shipment in shipments}:
        states[shipping_state(set(lines[order_id].values()), parcels[order_id])].append(order_id)
    for state, order_ids in states.items():
        db.session.execute(
            update(Order)
            .where(Order.id.in_(order_ids))
            .values(shipping_state=state)
            .execution_options(synchronize_session=False)
        )
    state_of = {order_id: state for state, order_ids in states.items() for order_id in order_ids}
    summary.deliveries += webhooks.queue_events(
        merchant_id,
        webhooks.EVENT_SHIPMENT,
        [
            (
                shipment["order_id"],
                {
                    "order_no": order_nos[shipment["order_id"]],
                    "shipping_state": state_of[shipment["order_id"]],
                    **shipment_view(shipment),
                },
            )
            for shipment in shipments
        ],
    )


SHIPPING = ShippingSource()


def shipping_state(line_ids: set[str], parcels: list[Parcel]) -> ShippingState:
    """What the order's parcels cover of its lines (a parcel with no lines is the whole order)."""
    if not parcels:
        return ShippingState.NONE
    if any(not parcel.line_ids for parcel in parcels):
        return ShippingState.SHIPPED
    shipped = {line_id for parcel in parcels for line_id in parcel.line_ids}
    return ShippingState.SHIPPED if shipped >= line_ids else ShippingState.PARTIAL


def shipment_view(shipment: Shipment | dict) -> dict:
    """What the mall reads of a shipment (in the API and in shipment.created events)."""
    get = shipment.get if isinstance(shipment, dict) else lambda name: getattr(shipment, name)
    shipped_at = get("shipped_at")
    return {
        "tracking_no": get("logistics_no"),
        "carrier_code": get("carrier_code"),
        "wdt_logistics_code": get("wdt_logistics_code"),
        "shipped_at": shipped_at.isoformat() if shipped_at else None,
        "line_ids": get("line_ids"),
    }


def shipments_of(order: Order) -> list[Shipment]:
    return list(
        db.session.scalars(
            select(Shipment)
            .where(Shipment.merchant_id == order.merchant_id, Shipment.order_id == order.id)
            .order_by(Shipment.id)
        )
    )


def enabled_merchant_ids() -> list[int]:
    return list(db.session.scalars(select(WdtConfig.merchant_id).where(WdtConfig.enabled.is_(True))))
