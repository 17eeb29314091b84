"""Prometheus metrics at /metrics (protected by WDTPANEL_METRICS_TOKEN; absent when it is unset).

Counters and histograms are recorded in whichever process does the work (web, rq workers). With
PROMETHEUS_MULTIPROC_DIR set (gunicorn and the workers of one host share the folder), /metrics reports the sum over
all of them; gauges of backlogs are read from the database and Redis when scraped."""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import requests
from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from redis.exceptions import RedisError
from sqlalchemy import func, select

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

INGEST_REQUESTS = Counter(
    "wdtpanel_ingest_requests_total", "Ingest API requests by endpoint and status", ["endpoint", "status"]
)
INGEST_SECONDS = Histogram(
    "wdtpanel_ingest_seconds", "Ingest API request latency", ["endpoint"], buckets=LATENCY_BUCKETS
)
PUSH_OUTCOMES = Counter(
    "wdtpanel_push_outcomes_total", "Order push attempts by outcome and reason", ["outcome", "reason"]
)
WDT_CALL_SECONDS = Histogram(
    "wdtpanel_wdt_call_seconds",
    "WDT call latency (answered calls) by edition and method",
    ["edition", "method"],
    buckets=LATENCY_BUCKETS,
)
PULL_RECORDS = Counter(
    "wdtpanel_pull_records_total", "Records pulled from WDT by kind and outcome", ["kind", "outcome"]
)


def count_push(outcome: str, reason: str | None) -> None:
    PUSH_OUTCOMES.labels(outcome, reason or "").inc()


def count_pull(kind: str, applied: int, failed: int) -> None:
    PULL_RECORDS.labels(kind, "applied").inc(applied)
    PULL_RECORDS.labels(kind, "failed").inc(failed)


def time_wdt_calls(session: requests.Session, edition: str) -> None:
    """Observe the latency of every answered WDT call made through `session`."""

    def observe(response: requests.Response, *args, **kwargs) -> None:
        url = urlsplit(response.request.url or "")
        method = parse_qs(url.query).get("method", [""])[0] or url.path.rsplit("/", 1)[-1].removesuffix(".php")
        WDT_CALL_SECONDS.labels(edition, method).observe(response.elapsed.total_seconds())

    session.hooks["response"].append(observe)


class Backlogs:
    """Gauges read when scraped (inside the /metrics request): orders by state, undelivered webhooks, the queue."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from .extensions import count_rows, db, job_queue
        from .models import Order, WebhookDelivery
        from .states import WebhookState

        orders = GaugeMetricFamily("wdtpanel_orders", "Orders by sync state", labels=["state"])
        for state, count in db.session.execute(select(Order.sync_state, func.count()).group_by(Order.sync_state)):
            orders.add_metric([state], count)
        yield orders
        backlog = count_rows(WebhookDelivery, WebhookDelivery.state == WebhookState.PENDING)
        yield GaugeMetricFamily("wdtpanel_webhook_backlog", "Webhook events not yet delivered", value=backlog)
        try:
            depth = job_queue().count
        except RedisError:
            return
        yield GaugeMetricFamily("wdtpanel_queue_depth", "Jobs waiting in the RQ queue", value=depth)


def init_app(app: Flask) -> None:
    @app.before_request
    def start_timer() -> None:
        if request.blueprint == "api":
            g.metrics_started = time.perf_counter()

    @app.after_request
    def observe_ingest(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is not None:
            endpoint = request.endpoint or "unknown"
            INGEST_SECONDS.labels(endpoint).observe(time.perf_counter() - started)
            INGEST_REQUESTS.labels(endpoint, str(response.status_code)).inc()
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        token = current_app.config["METRICS_TOKEN"]
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not token or not hmac.compare_digest(given.encode(), token.encode()):
            abort(404)
        registry = CollectorRegistry()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            MultiProcessCollector(registry)
        else:
            from prometheus_client import REGISTRY

            registry = REGISTRY
        output = generate_latest(registry)
        backlog_registry = CollectorRegistry()
        backlog_registry.register(Backlogs())
        return Response(output + generate_latest(backlog_registry), mimetype=CONTENT_TYPE_LATEST)
