"""The ingest API under load, on the default set-up (SQLite) and on PostgreSQL.

1. In-process cost per order (2 lines): signed POSTs through the app in this process, warmed up and with what it
   loaded frozen out of the collector, as a booted web worker is; baseline in the same run: a signed GET of an
   order (the same signature check and one read, no write).
2. Open loop: 200 orders/s for 15 s over HTTP against gunicorn (2 workers) while an rq worker pushes them to the
   simulator. Each request is timed from the moment it was scheduled, so waiting in a queue counts. Baseline in
   the same run: the same rate of signed GETs (404) to the same server."""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from _harness import Environment, fresh_database, prepare_schema
from results import figure, save

from tests.helpers import order_payload
from tests.stack import Mall, Stack, wait_for


def signed(secret: str, api_key: str, body: bytes) -> dict:
    from wdtpanel.security import hmac_signature

    stamp = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "X-Api-Key": api_key,
        "X-Timestamp": stamp,
        "X-Signature": hmac_signature(secret, stamp, body),
    }


def new_order(order_no: str) -> bytes:
    """An order made now, by a buyer of its own (WDT takes at most 30 orders of one buyer per call)."""
    stamp = datetime.now(UTC).isoformat()
    return json.dumps(
        order_payload(order_no, created_at=stamp, paid_at=stamp, updated_at=stamp, buyer={"nick": f"买家{order_no}"})
    ).encode()


def in_process(env: Environment, orders: int, rounds: int = 5) -> tuple[float, float]:
    """(ms per order posted, ms per signed read) through the app in this process: the medians of `rounds` rounds,
    each posting orders/rounds orders and then reading as many, so a moment of host noise moves one round, not the
    figure, and the read baseline meets the same conditions as the writes."""
    app = env.app()
    api_key, secret = prepare_schema(app)
    client = app.test_client()
    numbers = iter(range(10_000_000))

    def post() -> str:
        order_no = f"IP{next(numbers):07d}"
        body = new_order(order_no)
        assert client.post("/api/v1/orders", data=body, headers=signed(secret, api_key, body)).status_code == 201
        return order_no

    for _ in range(200):  # warm up: pools, prepared statements
        post()
    gc.freeze()  # what is loaded, frozen, as a booted web worker has it (gunicorn_conf.post_worker_init)
    writes, reads, per_round = [], [], orders // rounds
    for _ in range(rounds):
        started = time.perf_counter()
        posted = [post() for _ in range(per_round)]
        writes.append((time.perf_counter() - started) / per_round * 1000)
        started = time.perf_counter()
        for order_no in posted:
            headers = signed(secret, api_key, b"")
            assert client.get(f"/api/v1/orders/{order_no}", headers=headers).status_code == 200
        reads.append((time.perf_counter() - started) / per_round * 1000)
    gc.unfreeze()
    return statistics.median(writes), statistics.median(reads)


def open_loop(url: str, requests_: list[tuple[str, str, bytes, dict]], rate: float) -> list[tuple[float, int]]:
    """Send each request at its scheduled time (rate per second); (latency from schedule in ms, status) each.
    A new connection per request, as gunicorn's sync workers close each one; http.client rather than requests, so
    the load generator takes less of the CPU it shares with the system under test."""
    address = urlsplit(url)
    results: list[tuple[float, int]] = [(0.0, 0)] * len(requests_)

    def send(index: int, scheduled: float) -> None:
        method, path, body, headers = requests_[index]
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = 0
        finally:
            connection.close()
        results[index] = ((time.perf_counter() - scheduled) * 1000, status)

    # The generator's own collector must not pause it mid-run: a full pass over this process (the app and its
    # libraries are imported here) took 80 ms, and every request scheduled meanwhile was charged with it.
    gc.disable()
    try:
        with ThreadPoolExecutor(max_workers=64) as pool:
            start = time.perf_counter() + 0.5
            for index in range(len(requests_)):
                scheduled = start + index / rate
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(send, index, scheduled)
    finally:
        gc.enable()
    return results


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def load(database_url: str, rate: float, seconds: float, workdir: Path) -> dict:
    # the default timers (the fault suite's Stack runs pulls and sweeps every 5 s), paced above the burst
    timers = {"WDTPANEL_SWEEP_SECONDS": "60", "WDTPANEL_PULL_SECONDS": "60"}
    stack = Stack(workdir, workers=1, database=database_url, settings={"WDT_CALLS_PER_MINUTE": "6000", **timers})
    try:
        receiver_url = "http://127.0.0.1:9/hook"  # not called: nothing fails in this run
        mall = Mall(stack, *stack.connect_merchant(receiver_url))
        count = int(rate * seconds)
        posts = []
        for number in range(count):
            body = new_order(f"LD{number:07d}")
            posts.append(("POST", "/api/v1/orders", body, signed(mall.secret, mall.api_key, body)))
        gets = [
            ("GET", f"/api/v1/orders/NONE{number}", b"", signed(mall.secret, mall.api_key, b""))
            for number in range(count)
        ]
        open_loop(stack.url, gets[: int(rate)], rate)  # warm-up, not counted: the workers' first requests are slow
        baseline = open_loop(stack.url, gets, rate)
        measured = open_loop(stack.url, posts, rate)
        pushed = wait_for(lambda: len(stack.simulator_state()["trades"]) >= count, 120, every=1)
        return {
            "latencies": [ms for ms, _ in measured],
            "errors": sum(status != 201 for _, status in measured),
            "baseline": [ms for ms, _ in baseline],
            "baseline_errors": sum(status != 404 for _, status in baseline),
            "pushed": bool(pushed),
        }
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000, help="orders for the in-process figure")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    figures, details = [], {}
    for label in ("SQLite", "PostgreSQL"):
        env = Environment("ingest", sqlite=label == "SQLite")
        if env.database_kind != label:
            print("  (no PostgreSQL on this machine: skipped)")
            continue
        workdir = env.workdir
        write, read = in_process(env, args.orders)
        figures.append(
            figure(
                f"ingest in-process cost per order, 2 lines, median of 5 rounds ({label})",
                "≤ 2 ms",
                write,
                "ms",
                write <= 2,
                f"signed read, same rounds: {read:.2f} ms",
            )
        )
        load_url = (
            fresh_database("ingest_load", workdir) if label == "PostgreSQL" else f"sqlite:///{workdir / 'load.db'}"
        )
        result = load(load_url.replace("postgresql+psycopg://", "postgresql://"), args.rate, args.seconds, workdir)
        p99, p50 = percentile(result["latencies"], 0.99), statistics.median(result["latencies"])
        base99 = percentile(result["baseline"], 0.99)
        figures.append(
            figure(
                f"ingest open loop {args.rate:.0f}/s for {args.seconds:.0f} s, p99 "
                f"({label}, gunicorn 2, worker pushing)",
                "≤ 50 ms, 0 errors",
                p99,
                "ms",
                p99 <= 50 and result["errors"] == 0,
                f"signed 404 GETs at the same rate: p99 {base99:.1f} ms; orders: p50 {p50:.1f} ms, "
                f"max {max(result['latencies']):.0f} ms, {result['errors']} errors, all pushed: {result['pushed']}",
            )
        )
        details[label] = {
            "p50_ms": p50,
            "p99_ms": p99,
            "errors": result["errors"],
            "baseline_p99_ms": base99,
            "in_process_ms": write,
            "read_ms": read,
        }
    save("ingest", figures, details)


if __name__ == "__main__":
    main()
