"""Every SKU (spec) as the mall sent it, and which lack a merchant code (商家编码)."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import Goods, Spec

PAGE_SIZE = 100


def _skus(merchant_id: int, q: str, missing_only: bool):
    query = select(Goods, Spec).join(Spec, Spec.goods_id == Goods.id).where(Spec.merchant_id == merchant_id)
    if q:
        query = query.where(or_(Spec.merchant_code == q, Spec.mall_spec_id == q, Goods.mall_goods_id == q,
                                Goods.name.contains(q), Spec.name.contains(q)))
    if missing_only:
        query = query.where(or_(Spec.merchant_code.is_(None), Spec.merchant_code == ""))
    return query


def sku_rows(merchant_id: int, q: str = "", missing_only: bool = False, limit: int = PAGE_SIZE) -> list[dict]:
    rows = db.session.execute(_skus(merchant_id, q, missing_only).order_by(Goods.id, Spec.id).limit(limit))
    return [{"goods": goods, "spec": spec if spec.mall_spec_id else None, "code": spec.merchant_code}
            for goods, spec in rows]


def missing_code_count(merchant_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(_skus(merchant_id, "", True).subquery()))
