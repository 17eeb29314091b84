"""Push 10,000 orders to the simulator over HTTP with 2 rq workers: batched (the edition's limit per call), and one
order per call as the baseline in the same run. Prints orders per second and the workers' peak memory (RSS)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _harness import Environment, prepare_schema
from ingest import new_order, signed
from results import figure, save
from sqlalchemy import func, select


def seed(app, api_key: str, secret: str, prefix: str, count: int) -> None:
    """The orders arrive through the API; the jobs their arrival queued are dropped, so the run queues them all."""
    from redis import Redis
    from rq import Queue

    client = app.test_client()
    for number in range(count):
        body = new_order(f"{prefix}{number:07d}")
        assert client.post("/api/v1/orders", data=body, headers=signed(secret, api_key, body)).status_code == 201
    redis = Redis.from_url(app.config["REDIS_URL"])
    Queue(app.config["RQ_QUEUE"], connection=redis).empty()
    redis.delete(*redis.keys("wdtpanel:dispatch:*") or ["none"])


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def push(env: Environment, app, prefix: str, workers: int, batch_size: int | None) -> dict:
    """Workers already running and idle; the clock runs from queueing the pushes until no order is pending."""
    from redis import Redis
    from rq import Worker

    from wdtpanel.extensions import db
    from wdtpanel.jobs import enqueue_pushes
    from wdtpanel.models import Order

    processes = env.start_workers(workers, burst=False)
    redis = Redis.from_url(env.env["REDIS_URL"])
    while len(Worker.all(connection=redis)) < workers:
        time.sleep(0.1)
    peak = 0.0
    with env.app(WDT_PUSH_BATCH_SIZE=batch_size).app_context():  # the jobs are planned with this batch size
        pending = select(func.count()).where(Order.order_no.startswith(prefix), Order.sync_state == "pending")
        merchant_id = db.session.scalar(select(Order.merchant_id).where(Order.order_no.startswith(prefix)))
        started = time.perf_counter()
        queued = enqueue_pushes(merchant_id)
        while db.session.scalar(pending):
            db.session.rollback()
            peak = max([peak] + [peak_rss_mb(process.pid) for process in processes])
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        states = dict(
            db.session.execute(
                select(Order.sync_state, func.count())
                .where(Order.order_no.startswith(prefix))
                .group_by(Order.sync_state)
            ).all()
        )
    peak = max([peak] + [peak_rss_mb(process.pid) for process in processes])
    for process in processes:
        process.terminate()
        process.wait(10)
    return {"queued": queued, "seconds": seconds, "rate": queued / seconds, "states": states, "peak_rss_mb": peak}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    env = Environment("push")
    app = env.app()
    api_key, secret = prepare_schema(app)
    seed(app, api_key, secret, "B", args.orders)
    batched = push(env, app, "B", args.workers, None)
    seed(app, api_key, secret, "O", args.orders)
    single = push(env, app, "O", args.workers, 1)
    print(
        f"push {args.orders} orders, {args.workers} rq workers, simulator over HTTP, {env.database_kind}: "
        f"batched {batched['seconds']:.1f} s {batched['states']}; one per call {single['seconds']:.1f} s "
        f"{single['states']}"
    )
    speedup = batched["rate"] / single["rate"]
    figures = [
        figure(
            f"push {args.orders:,} orders, {args.workers} workers, simulator over HTTP ({env.database_kind})",
            "≥ 1,000 orders/s and ≥ 20× one per call",
            batched["rate"],
            "orders/s",
            batched["rate"] >= 1000 and speedup >= 20,
            f"one order per call: {single['rate']:.0f} orders/s (batched is {speedup:.1f}×)",
        ),
        figure(
            "worker peak RSS during the push",
            "≤ 120 MB",
            batched["peak_rss_mb"],
            "MB",
            batched["peak_rss_mb"] <= 120,
            f"one order per call: {single['peak_rss_mb']:.0f} MB",
        ),
    ]
    save("push_orders", figures, {"batched": batched, "one_per_call": single})


if __name__ == "__main__":
    main()
