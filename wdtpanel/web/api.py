"""The mall's ingest API (/api/v1): JSON in and out, signed per merchant."""
from __future__ import annotations

import json
import logging
from functools import wraps
from pathlib import Path

from flask import Blueprint, abort, current_app, g, jsonify, make_response, request
from flask_babel import gettext
from redis.exceptions import RedisError
from werkzeug.exceptions import RequestEntityTooLarge

from ..extensions import csrf, db
from ..jobs import request_dispatch
from ..ingest import goods as goods_ingest, orders as order_ingest
from ..pulls import shipping
from ..queries.orders import order_by_no
from ..reasons import render
from ..states import OrderState
from ..ingest.signature import ApiAuthError, authenticate_request
from ..ingest.reader import InvalidInput

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
OPENAPI = Path(__file__).with_name("openapi.json")


def problem(status: int, error: str, message: str, **extra):
    return jsonify({"error": error, "message": message, **extra}), status


def signed(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        try:
            body = request.get_data(cache=True)
        except RequestEntityTooLarge:
            return problem(413, "too_large", f"body exceeds {current_app.config['MAX_CONTENT_LENGTH']} bytes")
        try:
            g.merchant = authenticate_request(request.headers.get("X-Api-Key", ""),
                                              request.headers.get("X-Timestamp", ""),
                                              request.headers.get("X-Signature", ""), body)
        except ApiAuthError as exc:
            return problem(401, "unauthorized", str(exc))
        return view(*args, **kwargs)

    return wrapped


def json_body():
    """The request's JSON object; a 400 answer when the body is not JSON."""
    try:
        return json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, UnicodeDecodeError):
        abort(make_response(problem(400, "bad_json", "body must be a JSON object")))


@bp.errorhandler(InvalidInput)
def invalid_input(exc: InvalidInput):
    db.session.rollback()  # nothing is half-written
    return problem(422, "invalid", "some fields are not valid", fields=exc.errors)


def _queue_push(order) -> None:
    """Redis being down loses nothing: the order is pending in the database and the sweeper queues it."""
    try:
        request_dispatch(order.merchant_id)
    except RedisError:
        log.warning("could not queue order %s now; the sweeper will", order.order_no)


@bp.post("/orders")
@signed
def upsert_order():
    """Create or update an order from the mall's snapshot; older snapshots change nothing."""
    snapshot = order_ingest.read_order(json_body())
    result = order_ingest.upsert_order(g.merchant.id, snapshot)
    db.session.commit()
    order = result.order
    if result.outcome in ("created", "updated") and order.sync_state == OrderState.PENDING:
        _queue_push(order)
    body = {"order_no": order.order_no, "outcome": result.outcome, "sync_state": order.sync_state,
            "snapshot_version": order.snapshot_version}
    return jsonify(body), 201 if result.outcome == "created" else 200


@bp.post("/goods")
@signed
def upsert_goods():
    """Create or update goods and their specs (with merchant codes)."""
    snapshots = goods_ingest.read_goods(json_body())
    outcomes = goods_ingest.upsert_goods(g.merchant.id, snapshots)
    db.session.commit()
    return jsonify({"goods": outcomes})


@bp.get("/orders/<order_no>")
@signed
def get_order(order_no: str):
    """The order's sync state as wdtpanel knows it."""
    order = order_by_no(g.merchant.id, order_no)
    if order is None:
        return problem(404, "not_found", f"no order {order_no}")
    status = order_ingest.order_status(order)
    message = render(order.sync_reason, order.sync_params, gettext) if order.sync_reason else None
    return jsonify({**status, "message": message,
                    "shipments": [shipping.shipment_view(s) for s in shipping.shipments_of(order)]})


@bp.get("/openapi.json")
def openapi():
    return current_app.response_class(OPENAPI.read_text(), mimetype="application/json")
