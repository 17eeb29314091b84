"""Schemathesis against the served OpenAPI document, in process (WSGI), each request signed like the mall's:
no server error, and no mismatch between the document and the API (schema-valid data accepted, invalid data
refused, answers as documented). Fixed seed, a bounded number of examples per operation."""

from __future__ import annotations

import copy
import itertools
import json
import time
from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core import NotSet

from wdtpanel.extensions import db
from wdtpanel.ingest.openapi import openapi_document
from wdtpanel.security import encrypt_secret, hmac_signature

MAX_EXAMPLES = 100
API_KEY, API_SECRET = "schemathesis-key", "schemathesis-secret"
SIGNATURE = ("X-Timestamp", "X-Signature")
SIGNED = itertools.count()


CONFIG = schemathesis.Config.from_dict({"seed": 20261129, "generation": {"max-examples": MAX_EXAMPLES}})


class RunningApp:
    """The WSGI app of the test being run (apps are made per test, the schema once, at collection)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


RUNNING = RunningApp()
# The document the app serves at /api/v1/openapi.json (test_the_served_document_is_the_generated_one).
schema = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG)
schema.app = RUNNING


def follow_documented_rules(body) -> None:
    """Make an order or goods batch meet the rules the document states in words (`x-rules`) but JSON Schema
    cannot express, as a mall's own code would: ids unique within their list, a line's discount within its
    amount, the paid amount computed from the lines. Other values stay as drawn. A body too malformed for that
    is left alone; Schemathesis re-classifies every edited body against the schema before sending it."""
    try:
        fixed = copy.deepcopy(body)
        if "lines" in fixed:
            _order_rules(fixed)
        if "goods" in fixed:
            _goods_rules(fixed)
    except (TypeError, KeyError, AttributeError, ArithmeticError, ValueError):
        return
    body.clear()
    body.update(fixed)


def _distinct(items: list, key: str) -> None:
    for index, item in enumerate(items):
        item[key] = f"{item[key][:34]}~{index}"


def _order_rules(order: dict) -> None:
    lines, amounts = order["lines"], order["amounts"]
    _distinct(lines, "line_id")
    goods = Decimal(0)
    for line in lines:
        gross = Decimal(line["price"]) * int(line["quantity"])
        if Decimal(line.get("discount") or 0) > gross:
            line["discount"] = line["price"]  # quantity ≥ 1, so within price × quantity
        goods += gross - Decimal(line.get("discount") or 0)
    if Decimal(amounts.get("discount") or 0) > goods:
        amounts["discount"] = format(goods, "f")
    amounts["paid"] = format(goods - Decimal(amounts.get("discount") or 0) + Decimal(amounts.get("post") or 0), "f")


def _goods_rules(batch: dict) -> None:
    _distinct(batch["goods"], "goods_id")
    for goods in batch["goods"]:
        _distinct(goods.get("specs") or [], "spec_id")


def body_bytes(case) -> bytes:
    """The exact bytes the WSGI transport will send (werkzeug serializes `json` with json.dumps)."""
    if isinstance(case.body, NotSet):
        return b""
    sent = case.as_transport_kwargs()
    if "json" in sent:
        return json.dumps(sent["json"]).encode()
    data = sent.get("data", b"")
    return data.encode() if isinstance(data, str) else data


@schema.auth()
class MallCredentials:
    """The merchant's API key on every generated request (so Schemathesis knows the credentials are real and
    probes the API without them); the signature is added just before sending, over the final body."""

    def get(self, case, context):
        return API_KEY

    def set(self, case, api_key, context):
        case.headers["X-Api-Key"] = api_key


@schemathesis.hook
def before_call(context, case, kwargs):
    """Sign the request as the mall does. Probes that dropped or replaced the key stay unsigned."""
    if case.headers.get("X-Api-Key") != API_KEY:
        return
    if isinstance(case.body, dict):
        follow_documented_rules(case.body)
    stamp = str(int(time.time()) - next(SIGNED) % 240)  # distinct, so a body drawn twice is not a replay
    case.headers.update({"X-Timestamp": stamp, "X-Signature": hmac_signature(API_SECRET, stamp, body_bytes(case))})


@pytest.fixture
def merchant(app, make_merchant):
    """A merchant with the credentials the hooks above sign with; the schema's requests go to `app`."""
    merchant, _ = make_merchant("shop-schemathesis")
    merchant.api_key, merchant.api_secret_encrypted = API_KEY, encrypt_secret(API_SECRET)
    db.session.commit()
    RUNNING.app = app
    yield merchant
    RUNNING.app = None


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), database=None, max_examples=MAX_EXAMPLES)
def test_api_matches_its_openapi_document(case, merchant):
    response = case.call_and_validate()
    sent = response.request.headers
    if (
        sent.get("X-Api-Key") == API_KEY
        and all(sent.get(name) == case.headers.get(name) for name in SIGNATURE)
        and sent.get("Content-Type", "application/json") == "application/json"
    ):  # (werkzeug makes up a
        # multipart body for a multipart Content-Type: bytes the hook cannot know)
        assert response.status_code != 401, response.text  # signed as the hook signed it, so signed right


def test_the_served_document_is_the_generated_one(app):
    assert app.test_client().get("/api/v1/openapi.json").get_json() == openapi_document()
