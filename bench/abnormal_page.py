"""Response time of 旺店通异常订单 with 200,000 orders of which 50,000 abnormal: first page, a deep page,
a filtered search. The baseline in the same run is OFFSET pagination of the same deep page. The templates are
compiled first and what is loaded frozen out of the collector, as each gunicorn worker does when it boots
(gunicorn_conf.post_worker_init); the compile itself is printed."""

from __future__ import annotations

import gc
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from _harness import start
from results import figure, save
from sqlalchemy import insert, select

REASONS = ["unknown_merchant_code", "missing_merchant_code", "network", "auth_failed", "unknown_shop"]


def seed(app, merchant_id: int, total: int, abnormal: int) -> None:
    from wdtpanel.extensions import db
    from wdtpanel.models import Order, OrderLine

    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    abnormal_numbers = set(rng.sample(range(total), abnormal))
    with app.app_context():
        for first in range(0, total, 10_000):
            numbers = range(first, min(first + 10_000, total))
            rows = []
            for n in numbers:
                failed = n in abnormal_numbers
                rows.append(
                    {
                        "merchant_id": merchant_id,
                        "order_no": f"P{n:08d}",
                        "mall_status": "paid",
                        "ordered_at": start + timedelta(minutes=2 * n),
                        "mall_updated_at": start,
                        "buyer_nick": f"买家{n}",
                        "paid_amount": Decimal("88.80"),
                        "post_amount": Decimal("0"),
                        "discount_amount": Decimal("0"),
                        "total_amount": Decimal("88.80"),
                        "sync_state": "abnormal" if failed else "pushed",
                        "sync_reason": REASONS[n % len(REASONS)] if failed else None,
                        "sync_params": {"detail": "WDT refused it"} if failed else {},
                        "push_attempts": 1,
                        "snapshot_version": 1,
                        "shipping_state": "none",
                        "created_at": start,
                        "updated_at": start,
                    }
                )
            db.session.execute(insert(Order), rows)
            ids = dict(
                db.session.execute(
                    select(Order.order_no, Order.id).where(
                        Order.merchant_id == merchant_id, Order.order_no.between(f"P{first:08d}", f"P{numbers[-1]:08d}")
                    )
                ).all()
            )
            db.session.execute(
                insert(OrderLine),
                [
                    {
                        "order_id": ids[f"P{n:08d}"],
                        "merchant_id": merchant_id,
                        "mall_line_id": "1",
                        "wdt_oid": f"P{n:08d}-1",
                        "mall_goods_id": "G",
                        "mall_spec_id": "S",
                        "goods_name": "杯子",
                        "spec_name": "",
                        "merchant_code": f"SKU-{n % 5000:05d}",
                        "quantity": 1,
                        "price": Decimal("88.80"),
                        "discount": Decimal("0"),
                        "refund_status": "none",
                        "refund_pushed_status": "none",
                    }
                    for n in numbers
                ],
            )
            db.session.commit()


def timed(client, url: str, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return statistics.median(samples), sorted(samples)[int(0.95 * (len(samples) - 1))]


def main() -> None:
    args, env, app = start("abnormal_page", {"orders": 200_000, "abnormal": 50_000, "runs": 20})
    from wdtpanel.accounts import create_user
    from wdtpanel.cli import ensure_merchant
    from wdtpanel.extensions import db
    from wdtpanel.models import Order
    from wdtpanel.queries import abnormal
    from wdtpanel.queries.lookup import PAGE_SIZE, encode_cursor

    with app.app_context():
        merchant, _ = ensure_merchant("bench", "bench")
        user = create_user(merchant, "staff", None, "staff")
        db.session.commit()
        merchant_id, user_id = merchant.id, user.id
    started = time.perf_counter()
    seed(app, merchant_id, args.orders, args.abnormal)
    with app.app_context():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")  # what autovacuum has done to months-old orders
        deep_position = args.abnormal // 2
        deep_order = db.session.scalars(
            select(Order)
            .where(Order.merchant_id == merchant_id, Order.sync_state == "abnormal")
            .order_by(Order.ordered_at.desc(), Order.id.desc())
            .offset(deep_position)
            .limit(1)
        ).one()
        cursor = encode_cursor(deep_order)
    print(
        f"seeded {args.orders} orders ({args.abnormal} abnormal) in {time.perf_counter() - started:.0f} s, "
        f"database {env.database_kind}"
    )
    from wdtpanel.web import compile_templates

    started = time.perf_counter()
    compiled = compile_templates(app)
    gc.freeze()  # and what is loaded frozen out of the collector, as gunicorn_conf.post_worker_init leaves a worker
    print(f"compiled {compiled} templates in {(time.perf_counter() - started) * 1000:.0f} ms (a worker, as it boots)")
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"], session["merchant_id"], session["sv"] = user_id, merchant_id, 1
    cases = {
        "first page": "/abnormal/",
        f"deep page (row {deep_position}, keyset)": f"/abnormal/?cursor={cursor}",
        "filter: reason + date range": "/abnormal/?reason=network&date_from=2026-03-01&date_to=2026-05-31",
        "search: merchant code": "/abnormal/?q=SKU-01234",
        "search: order no.": f"/abnormal/?q={deep_order.order_no}",
    }
    print(f"{'case':42s} {'median ms':>10s} {'p95 ms':>8s}")
    results = {}
    for label, url in cases.items():
        results[label] = timed(client, url, args.runs)
        print(f"{label:42s} {results[label][0]:10.1f} {results[label][1]:8.1f}")
    with app.app_context():
        query = (
            select(Order)
            .where(Order.merchant_id == merchant_id, Order.sync_state.in_(abnormal.LISTED_STATES))
            .order_by(Order.ordered_at.desc(), Order.id.desc())
        )
        samples = []
        for _ in range(args.runs):
            started = time.perf_counter()
            db.session.scalars(query.offset(deep_position).limit(PAGE_SIZE)).all()
            samples.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
        keyset = []
        for _ in range(args.runs):
            started = time.perf_counter()
            abnormal.list_page(merchant_id, abnormal.Filters(cursor=cursor), ZoneInfo("Asia/Shanghai"))
            keyset.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
    offset_ms, keyset_ms = statistics.median(samples), statistics.median(keyset)
    worst_median = max(median for median, _ in results.values())
    worst_p95 = max(p95 for _, p95 in results.values())
    baseline = f"the deep page's query alone: keyset {keyset_ms:.1f} ms, OFFSET {offset_ms:.1f} ms"
    save(
        "abnormal_page",
        [
            figure(
                f"异常订单 page, {args.orders:,} orders / {args.abnormal:,} abnormal, worst median of "
                f"{len(results)} cases ({env.database_kind})",
                "≤ 30 ms",
                worst_median,
                "ms",
                worst_median <= 30,
                baseline,
            ),
            figure("异常订单 page, worst p95 of the same cases", "≤ 40 ms", worst_p95, "ms", worst_p95 <= 40, baseline),
        ],
        {label: {"median_ms": m, "p95_ms": p} for label, (m, p) in results.items()},
    )


if __name__ == "__main__":
    main()
