"""How long draining 20,000 shipped records from WDT (the simulator over HTTP) takes: query 100, record,
ack, repeat. The baseline in the same run drains the same number of records with query + ack only
(no database work), which is the floor the protocol itself sets."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import requests
from _harness import Environment, start
from results import figure, save
from sqlalchemy import insert, select


def ship_all(env: Environment, client, count: int, prefix: str) -> None:
    """Push `count` raw trades and ship each one in the simulator."""
    from wdtpanel.wdt import RawTrade, RawTradeLine

    now = datetime.now(UTC) - timedelta(minutes=5)
    trades = [
        RawTrade(
            tid=f"{prefix}{n:07d}",
            trade_status=30,
            pay_status=2,
            delivery_term=1,
            trade_time=now,
            pay_time=now,
            buyer_nick=f"买家{prefix}{n}",
            receiver_name="王",
            receiver_mobile="13800138000",
            receiver_telno="",
            receiver_province="浙江省",
            receiver_city="杭州市",
            receiver_district="西湖区",
            receiver_address="文三路",
            receiver_zip="",
            buyer_message="",
            seller_memo="",
            post_amount=Decimal("0"),
            cod_amount=Decimal("0"),
            ext_cod_fee=Decimal("0"),
            other_amount=Decimal("0"),
            paid=Decimal("10"),
            logistics_type=-1,
            refund_status=0,
            lines=[
                RawTradeLine(
                    oid=f"{prefix}{n}-1",
                    num=Decimal(1),
                    price=Decimal("10"),
                    status=30,
                    refund_status=0,
                    goods_id="G",
                    spec_id="S",
                    goods_no="",
                    spec_no="DEMO-0001",
                    goods_name="杯子",
                    spec_name="",
                    adjust_amount=Decimal(0),
                    discount=Decimal(0),
                    share_discount=Decimal(0),
                )
            ],
        )
        for n in range(count)
    ]
    client.push_trades("mall01", trades)
    with requests.Session() as http:
        for n in range(count):
            http.post(
                f"{env.simulator_url}/_sim/trades/{prefix}{n:07d}/ship",
                json={"logistics_code": "ZTO", "logistics_no": f"ZT{prefix}{n:08d}"},
            ).raise_for_status()


def main() -> None:
    args, env, app = start("drain_shipments", {"records": 20_000})
    from wdtpanel.extensions import db
    from wdtpanel.merchant_config import client_for, load_config
    from wdtpanel.models import Order
    from wdtpanel.pulls.runner import run_pull
    from wdtpanel.pulls.shipping import SHIPPING
    from wdtpanel.wdt import LogisticsAck

    with app.app_context():
        merchant_id = db.session.scalar(select(Order.merchant_id).limit(1)) or 1
        config = load_config(merchant_id)
        config.logistics.clear()
        db.session.flush()
        from wdtpanel.models import LogisticsMapping

        config.logistics.append(
            LogisticsMapping(merchant_id=merchant_id, wdt_code="ZTO", wdt_name="中通快递", mall_code="zhongtong")
        )
        db.session.commit()
        client = client_for(load_config(merchant_id))
        now = datetime.now(UTC)
        for first in range(0, args.records, 5000):
            db.session.execute(
                insert(Order),
                [
                    {
                        "merchant_id": merchant_id,
                        "order_no": f"S{n:07d}",
                        "mall_status": "paid",
                        "ordered_at": now,
                        "mall_updated_at": now,
                        "sync_state": "pushed",
                        "snapshot_version": 1,
                        "push_attempts": 1,
                        "shipping_state": "none",
                        "paid_amount": Decimal("10"),
                        "post_amount": Decimal("0"),
                        "discount_amount": Decimal("0"),
                        "total_amount": Decimal("10"),
                        "created_at": now,
                        "updated_at": now,
                        "buyer_nick": "b",
                    }
                    for n in range(first, min(first + 5000, args.records))
                ],
            )
        db.session.commit()

        started = time.perf_counter()
        ship_all(env, client, args.records, "B")
        setup = time.perf_counter() - started
        started = time.perf_counter()
        drained = 0
        while records := client.query_logistics_sync("mall01", 100):
            client.ack_logistics_sync([LogisticsAck(r.rec_id, True, "ok") for r in records])
            drained += len(records)
        baseline = time.perf_counter() - started

        ship_all(env, client, args.records, "S")
        started = time.perf_counter()
        summary = run_pull(SHIPPING, merchant_id)
        elapsed = time.perf_counter() - started
        recorded = db.session.scalar(
            select(db.func.count()).select_from(Order).where(Order.shipping_state == "shipped")
        )
    print(
        f"drain {args.records} shipped records, enterprise edition, simulator over HTTP, {env.database_kind} "
        f"(set-up: push + ship took {setup:.0f} s): full pull {summary.records} records, {summary.applied} "
        f"applied, {summary.failed} failed, orders marked shipped {recorded}"
    )
    save(
        "drain_shipments",
        [
            figure(
                f"drain {args.records:,} shipped records: record, outbox, ack ({env.database_kind})",
                "≤ 10 s",
                elapsed,
                "s",
                elapsed <= 10 and summary.applied == args.records,
                f"protocol floor, query + ack only: {baseline:.1f} s",
            )
        ],
        {"full_s": elapsed, "floor_s": baseline},
    )


if __name__ == "__main__":
    main()
