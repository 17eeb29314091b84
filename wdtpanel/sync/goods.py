"""Goods and specs as the mall sent them, and which lack a merchant code (商家编码)."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import Goods, Sku

PAGE_SIZE = 100


def _sku_queries(merchant_id: int, q: str, missing_only: bool):
    """Sellable SKUs: specs of multi-spec goods, and goods without specs."""
    specs = select(Goods, Sku).join(Sku, Sku.goods_id == Goods.id).where(Goods.merchant_id == merchant_id)
    singles = select(Goods).where(Goods.merchant_id == merchant_id, ~Goods.specs.any())
    if q:
        specs = specs.where(or_(Sku.merchant_code == q, Sku.mall_spec_id == q, Goods.mall_goods_id == q,
                                Goods.name.contains(q), Sku.name.contains(q)))
        singles = singles.where(or_(Goods.merchant_code == q, Goods.mall_goods_id == q, Goods.name.contains(q)))
    if missing_only:
        specs = specs.where(or_(Sku.merchant_code.is_(None), Sku.merchant_code == ""))
        singles = singles.where(or_(Goods.merchant_code.is_(None), Goods.merchant_code == ""))
    return specs, singles


def sku_rows(merchant_id: int, q: str = "", missing_only: bool = False, limit: int = PAGE_SIZE) -> list[dict]:
    specs, singles = _sku_queries(merchant_id, q, missing_only)
    rows = [{"goods": goods, "spec": spec, "code": spec.merchant_code}
            for goods, spec in db.session.execute(specs.order_by(Goods.id, Sku.id).limit(limit))]
    rows += [{"goods": goods, "spec": None, "code": goods.merchant_code}
             for goods in db.session.scalars(singles.order_by(Goods.id).limit(limit))]
    return rows[:limit]


def missing_code_count(merchant_id: int) -> int:
    specs, singles = _sku_queries(merchant_id, "", True)
    return sum(db.session.scalar(select(func.count()).select_from(query.subquery())) for query in (specs, singles))
