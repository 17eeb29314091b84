"""The mall's goods snapshots: read, check, and upsert (newest snapshot wins)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from sqlalchemy import and_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Goods, Spec
from .fields import read_or_refuse
from .schema import GOODS_BATCH
from .snapshots import take_row


@dataclass
class SpecSnapshot:
    spec_id: str
    name: str
    merchant_code: str | None
    price: Decimal | None


@dataclass
class GoodsSnapshot:
    goods_id: str
    name: str
    merchant_code: str | None
    on_shelf: bool
    updated_at: datetime
    specs: list[SpecSnapshot]
    price: Decimal | None = None  # of a single-spec goods

    def skus(self) -> list[SpecSnapshot]:
        """What is sold: the specs, or for a single-spec goods one implicit spec (spec_id "") with its code."""
        return self.specs or [SpecSnapshot("", "", self.merchant_code, self.price)]


def read_goods(data) -> list[GoodsSnapshot]:
    return [
        GoodsSnapshot(
            goods_id=item["goods_id"],
            name=item["name"],
            merchant_code=item["merchant_code"] or None,
            on_shelf=item["on_shelf"],
            updated_at=item["updated_at"],
            price=item["price"],
            specs=[
                SpecSnapshot(spec["spec_id"], spec["name"], spec["merchant_code"] or None, spec["price"])
                for spec in item["specs"]
            ],
        )
        for item in read_or_refuse(GOODS_BATCH, data)["goods"]
    ]


def upsert_goods(merchant_id: int, snapshots: list[GoodsSnapshot]) -> dict[str, str]:
    """goods_id -> created | updated | stale; the database decides which snapshot is newest. Does not commit.
    Rows are taken in goods_id order, so two requests naming the same goods never wait for each other in a circle."""
    outcomes = {}
    for snapshot in sorted(snapshots, key=lambda item: item.goods_id):
        key = and_(Goods.merchant_id == merchant_id, Goods.mall_goods_id == snapshot.goods_id)
        taken = take_row(Goods, key, snapshot.updated_at, partial(_new_goods, merchant_id, snapshot))
        if taken.created is not None:
            outcomes[snapshot.goods_id] = "created"
        elif taken.claimed_id is None:
            outcomes[snapshot.goods_id] = "stale"
        else:
            goods = db.session.scalars(
                select(Goods)
                .where(Goods.id == taken.claimed_id)
                .options(selectinload(Goods.specs))
                .execution_options(populate_existing=True)
            ).one()
            _apply(goods, snapshot)
            outcomes[snapshot.goods_id] = "updated"
    db.session.flush()
    return {snapshot.goods_id: outcomes[snapshot.goods_id] for snapshot in snapshots}


def _new_goods(merchant_id: int, snapshot: GoodsSnapshot) -> Goods:
    goods = Goods(merchant_id=merchant_id, mall_goods_id=snapshot.goods_id)
    _apply(goods, snapshot)
    return goods


def _apply(goods: Goods, snapshot: GoodsSnapshot) -> None:
    goods.name, goods.merchant_code = snapshot.name, snapshot.merchant_code
    goods.on_shelf, goods.mall_updated_at = snapshot.on_shelf, snapshot.updated_at
    specs = {spec.mall_spec_id: spec for spec in goods.specs}
    for new in snapshot.skus():
        spec = specs.pop(new.spec_id, None)
        if spec is None:
            spec = Spec(merchant_id=goods.merchant_id, mall_spec_id=new.spec_id)
            goods.specs.append(spec)
        spec.name, spec.merchant_code, spec.price = new.name, new.merchant_code, new.price
    for dropped in specs.values():
        goods.specs.remove(dropped)
