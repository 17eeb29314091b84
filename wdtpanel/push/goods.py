"""商品同步: the mall's SKUs go to WDT's platform goods (平台货品), which WDT matches to its own goods by 商家编码.

A spec is `pending` when it changed since it was last sent (or someone asked for a push), `pushed` once WDT took it,
`failed` when WDT refused it or it has no 商家编码 to send. One push job per merchant at a time sends the pending
specs in batches of the edition's limit and records each outcome only if the spec was not marked again meanwhile
(`push_version`), so a change arriving during a push is pushed too. Pending specs whose job was lost (Redis down,
worker killed) are queued by the sweeper."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import cast

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import CursorResult

from .. import audit
from ..columns import MONEY_PLACES, utcnow
from ..extensions import bound_values, count_rows, db
from ..locks import exclusive
from ..merchant_config import client_for, load_config, pacer_for
from ..models import Goods, GoodsPushRun, Spec, User, WdtConfig
from ..states import GoodsPushState
from ..wdt import BATCH_LIMITS, PlatformGoodsLine, WdtError
from .pipeline import RATE_LIMIT_BACK_OFF

ON_SHELF, OFF_SHELF = 1, 2  # docs/wdt-protocol.md#t-goods-status
MAX_BATCHES = 200  # bounds one job; pending specs left over are queued again by the sweeper
LOCK_SECONDS = 120  # renewed every batch
SPEC_TABLE = Spec.__table__


class GoodsPushRefused(Exception):
    """`reason`: not_found | integration_off | missing_code | nothing_to_push."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def platform_line(goods: Goods, spec: Spec) -> PlatformGoodsLine:
    """The spec as a platform goods line. A single-spec goods goes with its goods id as spec id, as its order lines
    do, so WDT keeps one platform row for it whether it came from this push or from an order's 递交."""
    code = spec.merchant_code or ""
    return PlatformGoodsLine(
        goods_id=goods.mall_goods_id,
        spec_id=spec.mall_spec_id or goods.mall_goods_id,
        goods_no=goods.merchant_code or code,
        spec_no=code,
        goods_name=goods.name,
        spec_name=spec.name,
        status=ON_SHELF if goods.on_shelf else OFF_SHELF,
        price=(spec.price or Decimal("0")).quantize(MONEY_PLACES),
    )


def line_digest(line: PlatformGoodsLine) -> str:
    text = json.dumps(asdict(line), default=str, sort_keys=True)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _mark(merchant_id: int, condition, **values) -> int:
    """Specs to push again: pending, with a new version (an outcome of a push already under way is not recorded)
    and no reason (a reason on a pending spec is a try since then that WDT could not take)."""
    result = db.session.execute(
        update(Spec)
        .where(Spec.merchant_id == merchant_id, condition)
        .values(
            push_state=GoodsPushState.PENDING,
            push_version=Spec.push_version + 1,
            push_reason=None,
            push_params={},
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult, result).rowcount


def mark_changed(merchant_id: int, goods_ids: Iterable[str]) -> int:
    """After the mall's snapshots: the specs of these goods whose line differs from the last one sent become
    pending, and so do (again) those already pending: their push may be under way with a line this snapshot just
    replaced, even by the one sent before. Returns how many. Flushes; the caller commits, then queues the push."""
    rows = db.session.execute(
        select(Spec, Goods)
        .join(Goods, Goods.id == Spec.goods_id)
        .where(
            Spec.merchant_id == merchant_id, Goods.merchant_id == merchant_id, Goods.mall_goods_id.in_(list(goods_ids))
        )
    )
    changed = [
        spec.id
        for spec, goods in rows
        if spec.push_state == GoodsPushState.PENDING or line_digest(platform_line(goods, spec)) != spec.push_digest
    ]
    return _mark(merchant_id, Spec.id.in_(changed)) if changed else 0


def _pushable_config(merchant_id: int) -> WdtConfig:
    config = load_config(merchant_id)
    if config is None or not config.enabled:
        raise GoodsPushRefused("integration_off")
    return config


def mark_for_push(merchant_id: int, user: User, spec_id: int) -> Spec:
    """推送到旺店通 on one SKU, audited. Raises GoodsPushRefused. Flushes; the caller commits and queues."""
    spec = db.session.scalar(select(Spec).where(Spec.merchant_id == merchant_id, Spec.id == spec_id))
    if spec is None:
        raise GoodsPushRefused("not_found")
    _pushable_config(merchant_id)
    if not spec.merchant_code:
        raise GoodsPushRefused("missing_code")
    _mark(merchant_id, Spec.id == spec.id)
    audit.record(merchant_id, user, "goods.push", spec.merchant_code)
    db.session.refresh(spec)
    return spec


def start_catalogue_push(merchant_id: int, user: User | None) -> GoodsPushRun:
    """推送全部: every spec of the merchant to WDT, as one run whose progress the page shows. `user` None: the
    integration was switched on. Raises GoodsPushRefused. Flushes; the caller commits and queues."""
    _pushable_config(merchant_id)
    total = count_rows(Spec, Spec.merchant_id == merchant_id)
    if not total:
        raise GoodsPushRefused("nothing_to_push")
    run = GoodsPushRun(merchant_id=merchant_id, user_id=user.id if user else None, total=total)
    db.session.add(run)
    db.session.flush()
    _mark(merchant_id, Spec.id.is_not(None), push_run_id=run.id)
    audit.record(merchant_id, user, "goods.push_all", f"{total} specs")
    return run


@dataclass
class RunProgress:
    run_id: int
    total: int
    pushed: int
    failed: int
    retrying: str | None = None  # why specs still wait: WDT could not be reached (the sweeper tries again)

    @property
    def done(self) -> int:
        return self.pushed + self.failed

    @property
    def finished(self) -> bool:
        return self.done >= self.total


def latest_run_id(merchant_id: int) -> int | None:
    return db.session.scalar(select(func.max(GoodsPushRun.id)).where(GoodsPushRun.merchant_id == merchant_id))


def run_progress(merchant_id: int, run_id: int) -> RunProgress | None:
    """Read from the specs of the run (a spec taken into a later run counts there)."""
    run = db.session.scalar(
        select(GoodsPushRun).where(GoodsPushRun.merchant_id == merchant_id, GoodsPushRun.id == run_id)
    )
    if run is None:
        return None
    states = dict(
        db.session.execute(
            select(Spec.push_state, func.count())
            .where(Spec.merchant_id == merchant_id, Spec.push_run_id == run.id)
            .group_by(Spec.push_state)
        ).all()
    )
    pushed, failed = states.get(GoodsPushState.PUSHED, 0), states.get(GoodsPushState.FAILED, 0)
    retrying = (
        db.session.scalar(
            select(Spec.push_reason)
            .where(
                Spec.merchant_id == merchant_id,
                Spec.push_run_id == run.id,
                Spec.push_state == GoodsPushState.PENDING,
                Spec.push_reason.is_not(None),
            )
            .limit(1)
        )
        if states.get(GoodsPushState.PENDING)
        else None
    )
    return RunProgress(run.id, pushed + failed + states.get(GoodsPushState.PENDING, 0), pushed, failed, retrying)


# --- the push job ------------------------------------------------------------------------------------------------


@dataclass
class GoodsPushSummary:
    pushed: int = 0
    failed: int = 0
    error: str | None = None  # a transient failure: the specs stay pending for the sweeper
    skipped: bool = False  # switched off, or another job of the merchant is pushing


def push_pending(merchant_id: int) -> GoodsPushSummary:
    """Push the merchant's pending specs, batch after batch. Commits each batch (its outcomes are the protocol)."""
    summary = GoodsPushSummary()
    config = load_config(merchant_id)
    if config is None or not config.enabled:
        summary.skipped = True
        return summary
    with exclusive(f"goods-push:{merchant_id}", LOCK_SECONDS) as held:
        if not held:
            summary.skipped = True
            return summary
        for _ in range(MAX_BATCHES):
            # A spec marked again while its batch was out is still pending: the next batch sends it again.
            pending = db.session.execute(
                select(Spec, Goods)
                .join(Goods, Goods.id == Spec.goods_id)
                .where(Spec.merchant_id == merchant_id, Spec.push_state == GoodsPushState.PENDING)
                .order_by(Spec.id)
                .limit(BATCH_LIMITS[config.edition].goods)
                .execution_options(populate_existing=True)
            )
            batch = [_Item(spec.id, spec.push_version, platform_line(goods, spec)) for spec, goods in pending]
            if not batch:
                break
            db.session.commit()  # no transaction stays open while WDT is called
            if not _push_batch(config, batch, summary):
                break
            held.renew()
    return summary


@dataclass
class _Item:
    """A pending spec as read for the push: the version it had, and its line."""

    spec_id: int
    version: int
    line: PlatformGoodsLine


def _push_batch(config: WdtConfig, batch: list[_Item], summary: GoodsPushSummary) -> bool:
    """Send one batch and record each spec's outcome; False after a transient failure (stop: WDT is not there)."""
    now = utcnow()
    sendable = [item for item in batch if item.line.spec_no]
    outcomes: dict[int, tuple[GoodsPushState, str | None, dict]] = {
        item.spec_id: (GoodsPushState.FAILED, "missing_merchant_code", {}) for item in batch if not item.line.spec_no
    }
    if sendable:
        failure = GoodsPushState.FAILED
        try:
            results = client_for(config).push_goods(config.shop_no, [item.line for item in sendable])
        except WdtError as error:
            if error.code == "rate_limited":
                pacer_for(config).back_off(RATE_LIMIT_BACK_OFF)
            if error.transient:
                failure, summary.error = GoodsPushState.PENDING, error.code
            results = {(item.line.goods_id, item.line.spec_id): error for item in sendable}
        for item in sendable:
            refusal = results.get((item.line.goods_id, item.line.spec_id))
            outcomes[item.spec_id] = (
                (GoodsPushState.PUSHED, None, {}) if refusal is None else (failure, refusal.code, refusal.params)
            )
    _record(batch, outcomes, now)
    summary.pushed += sum(state == GoodsPushState.PUSHED for state, _, _ in outcomes.values())
    summary.failed += sum(state == GoodsPushState.FAILED for state, _, _ in outcomes.values())
    return summary.error is None


def _record(batch: list[_Item], outcomes: dict, now) -> None:
    """Each outcome, unless the spec was marked again since it was read (then it stays pending for the next push).
    A transient failure leaves the spec pending, its reason shown. Commits."""
    db.session.execute(
        update(SPEC_TABLE)
        .where(SPEC_TABLE.c.id == bindparam("b_id"), SPEC_TABLE.c.push_version == bindparam("b_version"))
        .values(**bound_values("push_state", "push_reason", "push_params", "push_digest"), pushed_at=now),
        [
            {
                "b_id": item.spec_id,
                "b_version": item.version,
                "b_push_state": outcomes[item.spec_id][0],
                "b_push_reason": outcomes[item.spec_id][1],
                "b_push_params": outcomes[item.spec_id][2],
                "b_push_digest": line_digest(item.line),
            }
            for item in batch
        ],
    )
    db.session.commit()  # protocol: outcomes are kept before the job ends


def merchants_with_pending_specs() -> list[int]:
    """Merchants (integration on) with specs waiting for a push: the sweeper queues a job for each."""
    return list(
        db.session.scalars(
            select(Spec.merchant_id)
            .join(WdtConfig, WdtConfig.merchant_id == Spec.merchant_id)
            .where(WdtConfig.enabled.is_(True), Spec.push_state == GoodsPushState.PENDING)
            .distinct()
        )
    )
