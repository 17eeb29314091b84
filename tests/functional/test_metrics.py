"""Prometheus metrics at /metrics, behind a token."""

from __future__ import annotations

import pytest

from tests.helpers import order_payload


@pytest.fixture
def token(app):
    app.config["METRICS_TOKEN"] = "scrape-me"
    return "scrape-me"


def test_metrics_are_hidden_without_the_token(app, token):
    client = app.test_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404


def test_metrics_are_off_when_no_token_is_set(app):
    assert app.test_client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_ingest_and_backlogs_are_reported(app, token, mall_api):
    assert mall_api.post("/api/v1/orders", order_payload("MX1")).status_code == 201
    text = app.test_client().get("/metrics", headers={"Authorization": "Bearer scrape-me"}).get_data(as_text=True)
    assert 'wdtpanel_ingest_requests_total{endpoint="api.upsert_order",status="201"}' in text
    assert 'wdtpanel_ingest_seconds_count{endpoint="api.upsert_order"}' in text
    assert 'wdtpanel_orders{state="historical"} 1.0' in text  # the integration is off: historical
    assert "wdtpanel_webhook_backlog 0.0" in text and "wdtpanel_queue_depth" in text
