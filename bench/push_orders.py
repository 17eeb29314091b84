"""Push 10,000 orders end to end (ingest API -> DB -> RQ -> 2 workers -> simulator over HTTP), batched
(the edition's limit per call) and one order per call, in the same run. Prints orders per second."""
from __future__ import annotations

import argparse
import json
import time
from datetime import datetime, timedelta, timezone

from _harness import Environment

from sqlalchemy import func, select


def order(number: int, created: datetime) -> dict:
    stamp = created.isoformat()
    return {
        "order_no": f"BENCH{number:07d}", "status": "paid", "created_at": stamp, "paid_at": stamp, "updated_at": stamp,
        "buyer": {"nick": f"买家{number}"},
        "receiver": {"name": "王小明", "mobile": "13800138000", "province": "浙江省", "city": "杭州市",
                     "district": "西湖区", "address": "文三路 100 号"},
        "amounts": {"post": "8.00", "discount": "3.00", "paid": "138.20"},
        "lines": [{"line_id": f"{number}-1", "goods_id": "G1", "spec_id": "S1", "goods_name": "保温杯",
                   "merchant_code": f"DEMO-{number % 200 + 1:04d}", "quantity": 2, "price": "66.60"}],
    }


def run(env: Environment, app, api_key: str, secret: str, first: int, count: int, batch_size: int | None,
        workers: int) -> dict:
    from wdtpanel.extensions import db
    from wdtpanel.models import Order
    from wdtpanel.security import hmac_signature

    client = app.test_client()
    created = datetime.now(timezone.utc) - timedelta(minutes=1)
    started = time.perf_counter()
    for number in range(first, first + count):
        body = json.dumps(order(number, created)).encode()
        stamp = str(int(time.time()))
        response = client.post("/api/v1/orders", data=body, headers={
            "X-Api-Key": api_key, "X-Timestamp": stamp, "X-Signature": hmac_signature(secret, stamp, body),
            "Content-Type": "application/json"})
        assert response.status_code == 201, response.get_json()
    ingest_seconds = time.perf_counter() - started
    started = time.perf_counter()
    extra = {"WDT_PUSH_BATCH_SIZE": str(batch_size)} if batch_size else {}
    for worker in env.start_workers(workers, extra):
        worker.wait()
    push_seconds = time.perf_counter() - started
    with app.app_context():
        states = dict(db.session.execute(select(Order.sync_state, func.count()).where(
            Order.order_no.between(f"BENCH{first:07d}", f"BENCH{first + count - 1:07d}")).group_by(Order.sync_state)).all())
    return {"ingest_s": ingest_seconds, "push_s": push_seconds, "states": states}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    env = Environment()
    from wdtpanel.security import decrypt_secret

    results = {}
    for label, batch_size, first in (("batched", None, 0), ("one-per-call", 1, args.orders)):
        app = env.app(WDT_PUSH_BATCH_SIZE=batch_size)
        with app.app_context():
            merchant = env.connected_merchant()
            api_key, secret = merchant.api_key, decrypt_secret(merchant.api_secret_encrypted)
        results[label] = run(env, app, api_key, secret, first, args.orders, batch_size, args.workers)
    db_kind = env.env["DATABASE_URL"].split(":")[0]
    print(f"push {args.orders} orders, {args.workers} rq workers, simulator over HTTP, database {db_kind}")
    for label, result in results.items():
        rate = args.orders / result["push_s"]
        print(f"  {label:13s} ingest {args.orders / result['ingest_s']:7.0f} orders/s (API, 1 process)   "
              f"push {result['push_s']:7.1f} s = {rate:7.0f} orders/s   states {result['states']}")
    speedup = results["one-per-call"]["push_s"] / results["batched"]["push_s"]
    print(f"  batched pushes are {speedup:.1f}x faster than one order per call")


if __name__ == "__main__":
    main()
