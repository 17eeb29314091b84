"""Stock comes back: WDT's stock-change queue becomes the last stock of each SKU, the mall hears of a round's
changes in one stock.changed event, and WDT gets each ack with the stock the mall is told.

Runs on the pull skeleton (runner.py). A round's SKUs and stored stock are read in one query each and written in
one statement each (new rows inserted, known rows updated); the update keeps the stock monotonic per WDT row: a
change is written only if it is newer than the stored one (a different row, or a higher stock_change_count)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, bindparam, insert, not_, select, update

from .. import webhooks
from ..columns import utcnow
from ..extensions import bound_values, db
from ..models import Goods, Spec, SpecStock, WdtConfig, spec_stock_of_spec
from ..reasons import render
from ..states import PullKind
from ..wdt import EDITION_ENTERPRISE, StockAck, StockChange, WdtClient
from ..wdt.payloads import enterprise_stock_change, ultimate_stock_change
from .runner import Applied, PullSummary

STOCK_ROUND = 1000  # changes per query (enterprise takes 100..2000, ultimate 10..5000); one event per round
STOCK_TABLE = SpecStock.__table__


@dataclass(frozen=True)
class Sku:
    """A SKU as the mall knows it: its ids (spec id "" for a single-spec goods) and its 商家编码 now."""

    goods_id: str
    spec_id: str
    merchant_code: str | None


class StockSource:
    kind = PullKind.STOCK

    def fetch(self, client: WdtClient, config: WdtConfig) -> Sequence[StockChange]:
        return client.query_stock_changes(config.shop_no, STOCK_ROUND)

    def identity(self, record: StockChange) -> tuple[str, int]:
        return record.rec_id, record.change_count  # the same WDT row comes back with a higher count when it moves

    def rebuild(self, config: WdtConfig, raw: dict) -> StockChange:
        return (enterprise_stock_change if config.edition == EDITION_ENTERPRISE else ultimate_stock_change)(raw)

    def refused(self, record: StockChange, reason: str, params: dict) -> Applied:
        return Applied(record.rec_id, False, reason, params, record.spec_no, record.raw)

    def acknowledge(self, client: WdtClient, records: Sequence[StockChange], results: list[Applied]) -> None:
        acks = [
            StockAck(
                record.rec_id,
                record.quantity,
                record.change_count,
                result.ok,
                "" if result.ok else render(result.reason, result.params),
            )
            for record, result in zip(records, results, strict=True)
        ]
        client.ack_stock_changes(acks)  # a refused ack leaves the change waiting in WDT: it comes again

    def apply(self, config: WdtConfig, records: Sequence[StockChange], summary: PullSummary) -> list[Applied]:
        merchant_id, now = config.merchant_id, utcnow()
        goods_ids = {record.goods_id for record in records}
        skus = _skus(merchant_id, goods_ids)
        latest = {
            (row.mall_goods_id, row.mall_spec_id): (row.wdt_rec_id, row.change_count, row.version)
            for row in db.session.execute(
                select(
                    STOCK_TABLE.c.mall_goods_id,
                    STOCK_TABLE.c.mall_spec_id,
                    STOCK_TABLE.c.wdt_rec_id,
                    STOCK_TABLE.c.change_count,
                    STOCK_TABLE.c.version,
                ).where(STOCK_TABLE.c.merchant_id == merchant_id, STOCK_TABLE.c.mall_goods_id.in_(goods_ids))
            )
        }
        stored = set(latest)
        results: list[Applied] = []
        writes: dict[tuple[str, str], _StockWrite] = {}  # the newest change of each SKU in this round
        for record in records:
            sku = skus.get((record.goods_id, record.spec_id))
            if sku is None:
                results.append(self.refused(record, "unknown_spec", {"spec_no": record.spec_no}))
                continue
            results.append(Applied(record.rec_id, True, subject=record.spec_no, raw=record.raw))
            key = (sku.goods_id, sku.spec_id)
            rec_id, change_count, version = latest.get(key, ("", -1, 0))
            if rec_id == record.rec_id and change_count >= record.change_count:
                continue  # known already (a re-offer, or a kept record older than what came since)
            latest[key] = (record.rec_id, record.change_count, version + 1)
            writes[key] = _StockWrite(sku, record, version + 1, update=key in stored)
        changes = list(writes.values())
        self._write(merchant_id, changes, now)
        if changes:
            delivery = webhooks.queue_event(
                merchant_id, webhooks.EVENT_STOCK, {"changes": [change.event(now) for change in changes]}
            )
            db.session.flush()
            summary.deliveries.append(delivery.id)
        return results

    @staticmethod
    def _write(merchant_id: int, changes: list[_StockWrite], now) -> None:
        updates = [
            {f"b_{name}": value for name, value in change.columns().items()} for change in changes if change.update
        ]
        inserts = [
            {**change.columns(), "merchant_id": merchant_id, "updated_at": now}
            for change in changes
            if not change.update
        ]
        if updates:
            table = STOCK_TABLE.c
            db.session.execute(
                update(STOCK_TABLE)
                .where(
                    table.merchant_id == merchant_id,
                    table.mall_goods_id == bindparam("b_mall_goods_id"),
                    table.mall_spec_id == bindparam("b_mall_spec_id"),
                    not_(
                        and_(
                            table.wdt_rec_id == bindparam("b_wdt_rec_id"),
                            table.change_count >= bindparam("b_change_count"),
                        )
                    ),
                )
                .values(**bound_values("quantity", "wdt_rec_id", "change_count", "version"), updated_at=now),
                updates,
            )
        if inserts:  # one statement, every row in its VALUES
            db.session.execute(insert(STOCK_TABLE), inserts)


@dataclass
class _StockWrite:
    sku: Sku
    record: StockChange
    version: int
    update: bool  # the SKU has a stored row (else one is inserted)

    def columns(self) -> dict:
        return {
            "mall_goods_id": self.sku.goods_id,
            "mall_spec_id": self.sku.spec_id,
            "quantity": self.record.quantity,
            "wdt_rec_id": self.record.rec_id,
            "change_count": self.record.change_count,
            "version": self.version,
        }

    def event(self, now) -> dict:
        return stock_view(
            self.sku.goods_id, self.sku.spec_id, self.sku.merchant_code, self.record.quantity, self.version, now
        )


def _skus(merchant_id: int, goods_ids: set[str]) -> dict[tuple[str, str], Sku]:
    """(WDT's goods_id, spec_id) -> the SKU. A single-spec goods is pushed with its goods id as spec id (as its
    order lines are), and a platform row may also carry an empty spec id: both name the one implicit spec."""
    skus: dict[tuple[str, str], Sku] = {}
    rows = db.session.execute(
        select(Goods.mall_goods_id, Spec.mall_spec_id, Spec.merchant_code)
        .join(Spec, Spec.goods_id == Goods.id)
        .where(Goods.merchant_id == merchant_id, Goods.mall_goods_id.in_(goods_ids))
    )
    for goods_id, spec_id, code in sorted(rows, key=lambda row: row.mall_spec_id != ""):  # named specs win
        sku = Sku(goods_id, spec_id, code)
        if spec_id:
            skus[(goods_id, spec_id)] = sku
        else:
            skus[(goods_id, "")] = skus[(goods_id, goods_id)] = sku
    return skus


STOCK = StockSource()


def quantity_text(quantity: Decimal) -> str:
    """A stock as the mall reads it: a decimal string without trailing zeros ("12", "0.5")."""
    text = format(quantity.normalize(), "f")
    return "0" if text in ("-0", "") else text


def stock_view(
    goods_id: str, spec_id: str, merchant_code: str | None, quantity: Decimal, version: int, changed_at
) -> dict:
    return {
        "goods_id": goods_id,
        "spec_id": spec_id,
        "merchant_code": merchant_code,
        "quantity": quantity_text(quantity),
        "version": version,
        "changed_at": changed_at.isoformat(),
    }


def known_stock(merchant_id: int, merchant_code: str) -> list[dict]:
    """The last stock the panel knows of each SKU whose 商家编码 is `merchant_code` (two specs may share one)."""
    rows = db.session.execute(
        select(
            Goods.mall_goods_id,
            Spec.mall_spec_id,
            Spec.merchant_code,
            SpecStock.quantity,
            SpecStock.version,
            SpecStock.updated_at,
        )
        .join(Spec, Spec.goods_id == Goods.id)
        .join(
            SpecStock,
            spec_stock_of_spec(merchant_id),
        )
        .where(Goods.merchant_id == merchant_id, Spec.merchant_id == merchant_id, Spec.merchant_code == merchant_code)
        .order_by(Goods.mall_goods_id, Spec.mall_spec_id)
    )
    return [stock_view(*row) for row in rows]
