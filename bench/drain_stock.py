"""How long draining 20,000 stock changes from WDT (the simulator over HTTP) takes end to end: query 1,000, record
the stock, one stock.changed event in the webhook outbox per round, ack, repeat. Twice: the first stock of each SKU
(rows inserted), then a second change of each (rows updated). The baseline in the same run drains as many changes of
other platform goods with query + ack only (no database work): the floor the protocol sets."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import requests
from _harness import Environment, start
from results import figure, save
from sqlalchemy import func, insert, select

SPECS_PER_GOODS = 10


def platform_lines(prefix: str, count: int, code_prefix: str = ""):
    """`count` SKUs of `prefix` as platform goods lines: goods of ten specs each, codes the ERP knows."""
    from wdtpanel.wdt import PlatformGoodsLine

    return [
        PlatformGoodsLine(
            goods_id=f"{prefix}{n // SPECS_PER_GOODS:05d}",
            spec_id=f"{prefix}{n:06d}",
            goods_no="",
            spec_no=f"{code_prefix or prefix}-{n:06d}",
            goods_name="杯子",
            spec_name=f"规格{n}",
            status=1,
            price=Decimal("9.9"),
        )
        for n in range(count)
    ]


def queue_changes(env: Environment, client, prefix: str, count: int, code_prefix: str = "") -> None:
    """The ERP knows the codes; pushing the platform goods matches each one (again, to other ERP goods, with
    `code_prefix`), which queues a stock change of each row."""
    lines = platform_lines(prefix, count, code_prefix)
    requests.post(
        f"{env.simulator_url}/_sim/goods", json={"codes": [line.spec_no for line in lines]}, timeout=600
    ).raise_for_status()
    client.push_goods("mall01", lines)


def store_catalogue(merchant_id: int, count: int, prefix: str) -> None:
    """The mall's goods for the measured set, as POST /api/v1/goods would leave them (written in bulk)."""
    from wdtpanel.extensions import db
    from wdtpanel.models import Goods, Spec

    now = datetime.now(UTC)
    lines = platform_lines(prefix, count)
    goods_ids = sorted({line.goods_id for line in lines})
    db.session.execute(
        insert(Goods),
        [
            {
                "merchant_id": merchant_id,
                "mall_goods_id": goods_id,
                "name": "杯子",
                "on_shelf": True,
                "mall_updated_at": now,
            }
            for goods_id in goods_ids
        ],
    )
    ids = dict(db.session.execute(select(Goods.mall_goods_id, Goods.id).where(Goods.merchant_id == merchant_id)).all())
    db.session.execute(
        insert(Spec),
        [
            {
                "merchant_id": merchant_id,
                "goods_id": ids[line.goods_id],
                "mall_spec_id": line.spec_id,
                "name": line.spec_name,
                "merchant_code": line.spec_no,
                "push_state": "pushed",
                "push_params": {},
                "push_version": 1,
            }
            for line in lines
        ],
    )
    db.session.commit()


def analyze() -> None:
    """Fresh planner statistics, as autovacuum gathers them soon after a table grows by thousands of rows (without
    them PostgreSQL scans spec_stock whole for every round)."""
    from wdtpanel.extensions import db

    if db.engine.dialect.name == "postgresql":
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")


def main() -> None:
    # WDT pacing lifted: the figure is the panel's own cost, not its pacing
    args, env, app = start("drain_stock", {"changes": 20_000}, WDT_CALLS_PER_MINUTE=1_000_000, WDT_CALLS_BURST=1_000)
    from wdtpanel.extensions import db
    from wdtpanel.merchant_config import client_for, load_config
    from wdtpanel.models import SpecStock, WebhookDelivery
    from wdtpanel.pulls.runner import run_pull
    from wdtpanel.pulls.stock import STOCK, STOCK_ROUND
    from wdtpanel.wdt import StockAck

    with app.app_context():
        from wdtpanel.accounts import find_merchant

        merchant = find_merchant("bench")
        client = client_for(load_config(merchant.id))
        started = time.perf_counter()
        store_catalogue(merchant.id, args.changes, "S")
        queue_changes(env, client, "B", args.changes)
        setup = time.perf_counter() - started

        started, drained = time.perf_counter(), 0
        while changes := client.query_stock_changes("mall01", STOCK_ROUND):
            client.ack_stock_changes([StockAck(c.rec_id, c.quantity, c.change_count, True) for c in changes])
            drained += len(changes)
        baseline = time.perf_counter() - started

        runs = []
        for code_prefix in ("", "C"):  # first stock of each SKU, then a second change of each
            queue_changes(env, client, "S", args.changes, code_prefix)
            analyze()
            started = time.perf_counter()
            runs.append((run_pull(STOCK, merchant.id), time.perf_counter() - started))
        stored = db.session.scalar(select(func.count()).select_from(SpecStock))
        versions = db.session.scalar(select(func.sum(SpecStock.version)))
        events = db.session.scalars(
            select(WebhookDelivery.payload).where(WebhookDelivery.event == "stock.changed")
        ).all()
        left = len(client.query_stock_changes("mall01", STOCK_ROUND))
    print(
        f"drain {args.changes} stock changes, enterprise edition, {STOCK_ROUND} per query, simulator over HTTP, "
        f"pacing off, tables analyzed before each run, {env.database_kind} "
        f"(set-up took {setup:.0f} s)"
    )
    print(f"  baseline query+ack only : {drained} changes in {baseline:6.1f} s = {drained / baseline:6.0f} changes/s")
    kinds = ("first stock, rows inserted", "second change, rows updated")
    for (summary, elapsed), what in zip(runs, kinds, strict=True):
        print(
            f"  full pull, {what} (query, stock, stock.changed outbox, ack): {summary.records} changes, "
            f"{summary.applied} applied, {summary.failed} failed in {elapsed:6.1f} s = "
            f"{summary.records / elapsed:6.0f} changes/s"
        )
    print(
        f"  stock rows {stored} (versions {versions}), events {len(events)} carrying "
        f"{sum(len(e['changes']) for e in events)} changes; left waiting in WDT: {left}"
    )
    worst = max(elapsed for _, elapsed in runs)
    save(
        "drain_stock",
        [
            figure(
                f"drain {args.changes:,} stock changes: query, stock, stock.changed outbox, ack ({env.database_kind})",
                "reported (no goal set)",
                worst,
                "s",
                all(s.applied == args.changes for s, _ in runs) and left == 0,
                f"protocol floor, query + ack only: {baseline:.1f} s",
            )
        ],
        {"runs_s": [e for _, e in runs], "floor_s": baseline},
    )


if __name__ == "__main__":
    main()
