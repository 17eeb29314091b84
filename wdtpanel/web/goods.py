"""商品: every SKU with its 商家编码, so a missing code is seen before an order fails."""
from __future__ import annotations

from flask import Blueprint, g, render_template, request

from ..queries.goods import missing_code_count, sku_rows
from .auth import login_required

bp = Blueprint("goods", __name__, url_prefix="/goods")


@bp.get("/")
@login_required
def index():
    """SKUs, searchable; `missing=1` shows only those without a merchant code."""
    q = request.args.get("q", "").strip()
    missing = request.args.get("missing") == "1"
    return render_template("goods/index.html", rows=sku_rows(g.user.merchant_id, q, missing), q=q, missing=missing,
                           missing_count=missing_code_count(g.user.merchant_id))
