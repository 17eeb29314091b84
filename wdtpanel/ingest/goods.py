"""The mall's goods snapshots: read, check, and upsert (newest snapshot wins)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from ..models import Goods, Spec
from .reader import InvalidInput, Reader

@dataclass
class SpecSnapshot:
    spec_id: str
    name: str
    merchant_code: str | None
    price: Decimal


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
        return self.specs or [SpecSnapshot("", "", self.merchant_code, self.price or Decimal("0"))]


def read_goods(data) -> list[GoodsSnapshot]:
    errors: dict[str, str] = {}
    top = Reader(data, "", errors)
    goods = []
    for index, item in enumerate(top.objects("goods", 500)):
        goods.append(GoodsSnapshot(
            goods_id=item.text("goods_id", 64, required=True), name=item.text("name", 255, required=True),
            merchant_code=item.text("merchant_code", 64) or None, on_shelf=item.boolean("on_shelf", True),
            updated_at=item.moment("updated_at", required=True), price=item.money("price"),
            specs=[SpecSnapshot(spec.text("spec_id", 64, required=True), spec.text("name", 255),
                                spec.text("merchant_code", 64) or None, spec.money("price"))
                   for spec in item.objects("specs", 500, required=False)],
        ))
        spec_ids = [spec.spec_id for spec in goods[-1].specs]
        if len(spec_ids) != len(set(spec_ids)):
            errors.setdefault(f"goods[{index}].specs", "spec_id is repeated in this goods / 规格 ID 重复")
    if errors:
        raise InvalidInput(errors)
    return goods


def upsert_goods(merchant_id: int, snapshots: list[GoodsSnapshot]) -> dict[str, str]:
    """goods_id -> created | updated | stale. Does not commit."""
    outcomes = {}
    for snapshot in snapshots:
        goods = db.session.scalar(select(Goods).where(Goods.merchant_id == merchant_id,
                                                      Goods.mall_goods_id == snapshot.goods_id))
        if goods is not None and goods.mall_updated_at and snapshot.updated_at <= goods.mall_updated_at:
            outcomes[snapshot.goods_id] = "stale"
            continue
        outcomes[snapshot.goods_id] = "updated" if goods else "created"
        if goods is None:
            goods = Goods(merchant_id=merchant_id, mall_goods_id=snapshot.goods_id)
            db.session.add(goods)
        goods.name, goods.merchant_code = snapshot.name, snapshot.merchant_code
        goods.on_shelf, goods.mall_updated_at = snapshot.on_shelf, snapshot.updated_at
        specs = {spec.mall_spec_id: spec for spec in goods.specs}
        for new in snapshot.skus():
            spec = specs.pop(new.spec_id, None) or Spec(merchant_id=merchant_id, mall_spec_id=new.spec_id)
            if spec.id is None:
                goods.specs.append(spec)
            spec.name, spec.merchant_code, spec.price = new.name, new.merchant_code, new.price
        for dropped in specs.values():
            goods.specs.remove(dropped)
    return outcomes
