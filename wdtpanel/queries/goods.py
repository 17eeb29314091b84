"""商品: every SKU with its 商家编码, its push to WDT and its last stock, and what to fix before orders fail: codes
missing, unknown to WDT (from push answers and from abnormal orders), shared by two specs, or refused. Also the
abnormal orders a corrected code now fixes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.orm import selectinload

from ..extensions import count_rows, db
from ..models import Goods, Order, OrderLine, Spec, SpecStock, spec_stock_of_spec
from ..push.repush import BULK_LIMIT
from ..states import GoodsPushState, OrderState

PAGE_SIZE = 50
PROBLEMS = ("missing", "unknown", "duplicate", "failed")  # the filters, as the page lists them
CODE_REASONS = ("missing_merchant_code", "unknown_merchant_code")  # orders a code fixes
CURSOR = re.compile(r"([0-9]{1,18})-([0-9]{1,18})")


@dataclass
class GoodsFilters:
    problem: str = ""  # one of PROBLEMS, or "" for every SKU
    q: str = ""
    cursor: str = ""  # the page after this row
    before: str = ""  # the page before this row


@dataclass
class SkuRow:
    goods: Goods
    spec: Spec
    stock: SpecStock | None
    unknown: bool
    duplicate: bool

    @property
    def missing(self) -> bool:
        return not self.spec.merchant_code

    @property
    def single(self) -> bool:
        """The one implicit spec of a single-spec goods."""
        return self.spec.mall_spec_id == ""


@dataclass
class SkuPage:
    rows: list[SkuRow]
    next_cursor: str | None
    prev_cursor: str | None


def _named(text: str, code: str) -> bool:
    return bool(re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text))


def blamed_codes(detail: str, codes: list[str]) -> set[str]:
    """The codes of an order that WDT's refusal blames: those its text names; if it names none, all of them."""
    named = {code for code in codes if _named(detail, code)}
    return named or set(codes)


def unknown_codes(merchant_id: int) -> set[str]:
    """Codes (lower case: WDT's lookups ignore case) that WDT said it does not know, in abnormal orders."""
    by_order: dict[int, tuple[str, list[str]]] = {}
    for order_id, params, code in db.session.execute(
        select(Order.id, Order.sync_params, OrderLine.merchant_code)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(
            Order.merchant_id == merchant_id,
            Order.sync_state == OrderState.ABNORMAL,
            Order.sync_reason == "unknown_merchant_code",
            OrderLine.merchant_code.is_not(None),
        )
    ):
        by_order.setdefault(order_id, (str((params or {}).get("detail") or ""), []))[1].append(code)
    return {code.lower() for detail, codes in by_order.values() for code in blamed_codes(detail, codes)}


def _code():
    return func.lower(Spec.merchant_code)


def _duplicate_codes(merchant_id: int):
    return (
        select(_code())
        .where(Spec.merchant_id == merchant_id, Spec.merchant_code.is_not(None), Spec.merchant_code != "")
        .group_by(_code())
        .having(func.count() > 1)
    )


def problem_condition(merchant_id: int, problem: str, unknown: set[str]):
    has_code = and_(Spec.merchant_code.is_not(None), Spec.merchant_code != "")
    return {
        "missing": ~has_code,
        "unknown": and_(has_code, or_(Spec.push_reason == "unknown_merchant_code", _code().in_(unknown))),
        "duplicate": _code().in_(_duplicate_codes(merchant_id)),
        "failed": and_(has_code, Spec.push_state == GoodsPushState.FAILED),
    }[problem]


def _filtered(merchant_id: int, filters: GoodsFilters, unknown: set[str]):
    query = (
        select(Goods, Spec, SpecStock)
        .join(Spec, Spec.goods_id == Goods.id)
        .outerjoin(
            SpecStock,
            spec_stock_of_spec(merchant_id),
        )
        .where(Goods.merchant_id == merchant_id, Spec.merchant_id == merchant_id)
    )
    if filters.problem in PROBLEMS:
        query = query.where(problem_condition(merchant_id, filters.problem, unknown))
    if filters.q:
        needle = filters.q.lower()
        query = query.where(
            or_(
                *(
                    func.lower(column).contains(needle, autoescape=True)
                    for column in (Goods.name, Spec.name, Spec.merchant_code, Goods.mall_goods_id, Spec.mall_spec_id)
                )
            )
        )
    return query


def _position(cursor: str) -> tuple[int, int] | None:
    match = CURSOR.fullmatch(cursor)
    return (int(match[1]), int(match[2])) if match else None


def sku_page(merchant_id: int, filters: GoodsFilters, unknown: set[str], size: int = PAGE_SIZE) -> SkuPage:
    """One page of SKUs in goods order, after `cursor` or before `before`; `unknown`: unknown_codes()."""
    query = _filtered(merchant_id, filters, unknown)
    key = tuple_(Goods.id, Spec.id)
    backwards, forwards = _position(filters.before), _position(filters.cursor)
    if backwards:
        found = db.session.execute(
            query.where(key < tuple_(*backwards)).order_by(Goods.id.desc(), Spec.id.desc()).limit(size + 1)
        ).all()
        more_before, found = len(found) > size, list(reversed(found[:size]))
        more_after = True
    else:
        if forwards:
            query = query.where(key > tuple_(*forwards))
        found = db.session.execute(query.order_by(Goods.id, Spec.id).limit(size + 1)).all()
        more_after, found, more_before = len(found) > size, found[:size], forwards is not None
    rows = _rows(merchant_id, found, unknown)
    cursor = lambda row: f"{row.goods.id}-{row.spec.id}"  # noqa: E731
    return SkuPage(
        rows, cursor(rows[-1]) if rows and more_after else None, cursor(rows[0]) if rows and more_before else None
    )


def _rows(merchant_id: int, found, unknown: set[str]) -> list[SkuRow]:
    codes = {spec.merchant_code.lower() for _, spec, _ in found if spec.merchant_code}
    shared = set(db.session.scalars(_duplicate_codes(merchant_id).where(_code().in_(codes)))) if codes else set()
    return [
        SkuRow(
            goods,
            spec,
            stock,
            unknown=bool(spec.merchant_code)
            and (spec.push_reason == "unknown_merchant_code" or spec.merchant_code.lower() in unknown),
            duplicate=bool(spec.merchant_code) and spec.merchant_code.lower() in shared,
        )
        for goods, spec, stock in found
    ]


def sku_row(merchant_id: int, spec_id: int) -> SkuRow | None:
    found = db.session.execute(_filtered(merchant_id, GoodsFilters(), set()).where(Spec.id == spec_id)).all()
    return _rows(merchant_id, found, unknown_codes(merchant_id))[0] if found else None


def problem_counts(merchant_id: int, unknown: set[str]) -> dict[str, int]:
    """ "" (every SKU) and each problem -> how many SKUs."""
    mine = Spec.merchant_id == merchant_id
    counts = {"": count_rows(Spec, mine)}
    for problem in PROBLEMS:
        counts[problem] = count_rows(Spec, mine, problem_condition(merchant_id, problem, unknown))
    return counts


def pending_count(merchant_id: int) -> int:
    return count_rows(Spec, Spec.merchant_id == merchant_id, Spec.push_state == GoodsPushState.PENDING)


# --- fix once: the abnormal orders a corrected code fixes ------------------------------------------------------


@dataclass
class CodeFix:
    line: OrderLine
    new_code: str

    @property
    def old_code(self) -> str | None:
        return self.line.merchant_code


@dataclass
class FixableOrder:
    order: Order
    fixes: list[CodeFix] = field(default_factory=list)


def fixable_orders(merchant_id: int, unknown: set[str], limit: int = BULK_LIMIT) -> list[FixableOrder]:
    """Abnormal orders that fail only because of codes the mall has corrected since: every line WDT could not
    match (no code, or a code WDT said it does not know) belongs to a spec whose code is now another, usable one.
    Newest first."""
    spec_of_line = and_(
        Goods.merchant_id == merchant_id,
        Goods.mall_goods_id == OrderLine.mall_goods_id,
        Spec.goods_id == Goods.id,
        Spec.mall_spec_id == OrderLine.mall_spec_id,
    )
    candidates = (
        select(Order.id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Goods, and_(Goods.merchant_id == merchant_id, Goods.mall_goods_id == OrderLine.mall_goods_id))
        .join(Spec, spec_of_line)
        .where(
            Order.merchant_id == merchant_id,
            Order.sync_state == OrderState.ABNORMAL,
            Order.sync_reason.in_(CODE_REASONS),
            Spec.merchant_code.is_not(None),
            Spec.merchant_code != "",
            or_(OrderLine.merchant_code.is_(None), OrderLine.merchant_code != Spec.merchant_code),
        )
        .distinct()
    )
    orders = list(
        db.session.scalars(
            select(Order)
            .where(Order.id.in_(candidates))
            .options(selectinload(Order.lines))
            .order_by(Order.ordered_at.desc(), Order.id.desc())
            .limit(limit)
        )
    )
    if not orders:
        return []
    goods_ids = {line.mall_goods_id for order in orders for line in order.lines}
    codes = {
        (goods_id, spec_id): code
        for goods_id, spec_id, code in db.session.execute(
            select(Goods.mall_goods_id, Spec.mall_spec_id, Spec.merchant_code)
            .join(Spec, Spec.goods_id == Goods.id)
            .where(Goods.merchant_id == merchant_id, Goods.mall_goods_id.in_(goods_ids))
        )
    }
    fixable = []
    for order in orders:
        blamed = blamed_codes(
            str((order.sync_params or {}).get("detail") or ""),
            [line.merchant_code for line in order.lines if line.merchant_code],
        )
        failing = [
            line
            for line in order.lines
            if not line.merchant_code or (order.sync_reason == "unknown_merchant_code" and line.merchant_code in blamed)
        ]
        fixes = [
            CodeFix(line, code)
            for line in failing
            if (code := codes.get((line.mall_goods_id, line.mall_spec_id)))
            and code != line.merchant_code
            and code.lower() not in unknown
        ]
        if failing and len(fixes) == len(failing):
            fixable.append(FixableOrder(order, fixes))
    return fixable
