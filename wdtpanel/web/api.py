"""The mall's ingest API (/api/v1): JSON in and out, signed per merchant. Every answer under /api/v1 is JSON,
errors included."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app, g, jsonify, make_response, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, default_exceptions

from ..extensions import csrf, db
from ..ingest import goods as goods_ingest
from ..ingest import orders as order_ingest
from ..ingest.fields import InvalidInput, read_or_refuse
from ..ingest.json_body import BadJson, parse_object
from ..ingest.openapi import openapi_document
from ..ingest.replay import ReplayedRequest, spend_signature
from ..ingest.schema import MAX_JSON_DEPTH, STOCK_QUERY
from ..ingest.signature import ApiAuthError, authenticate_request
from ..jobs import leave_to_sweeper_if_down, request_dispatch, request_goods_push
from ..pulls import shipping, stock
from ..push import goods as goods_push
from ..reasons import render
from ..states import OrderState

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)
csrf.exempt(bp)


def problem(status: int, error: str, message: str, **extra):
    return jsonify({"error": error, "message": message, **extra}), status


def http_problem(exc: HTTPException):
    """Any HTTP error as JSON, keeping its headers (Allow on a 405)."""
    body, status = problem(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description or exc.name)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            body.headers[name] = value
    return body, status


for code in default_exceptions:
    bp.register_error_handler(code, http_problem)


@bp.before_app_request
def unrouted_api_request_as_json():
    """A path under /api/v1 that matches no route (404) or not with this method (405) answers JSON too: those
    errors are raised before a blueprint is chosen, so the handlers above never see them."""
    error = request.routing_exception
    if (
        isinstance(error, HTTPException)
        and error.code in (404, 405)
        and (request.path == PREFIX or request.path.startswith(PREFIX + "/"))
    ):
        return http_problem(error)
    return None


def signed(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        try:
            body = request.get_data(cache=True)
        except RequestEntityTooLarge:
            return problem(413, "too_large", f"body exceeds {current_app.config['MAX_CONTENT_LENGTH']} bytes")
        try:
            g.signed = authenticate_request(
                request.headers.get("X-Api-Key", ""),
                request.headers.get("X-Timestamp", ""),
                request.headers.get("X-Signature", ""),
                body,
            )
        except ApiAuthError as exc:
            return problem(401, "unauthorized", str(exc))
        g.merchant_id = g.signed.merchant_id
        return view(*args, **kwargs)

    return wrapped


def json_body() -> dict:
    """The request's JSON object: 415 unless sent as application/json (UTF-8), 400 unless a JSON object."""
    if request.mimetype != "application/json" or request.mimetype_params.get("charset", "utf-8").lower() != "utf-8":
        abort(
            make_response(
                problem(415, "unsupported_media_type", "send the body as Content-Type: application/json (UTF-8)")
            )
        )
    try:
        return parse_object(request.get_data(cache=True), MAX_JSON_DEPTH)
    except BadJson as exc:
        abort(make_response(problem(400, "bad_json", str(exc))))


def accept_once() -> None:
    """This signed write is being made: its signature is spent in the write's own transaction."""
    spend_signature(g.signed)


@bp.errorhandler(InvalidInput)
def invalid_input(exc: InvalidInput):
    db.session.rollback()  # nothing is half-written
    return problem(422, "invalid", "some fields are not valid", fields=exc.errors)


@bp.errorhandler(ReplayedRequest)
def replayed(_exc: ReplayedRequest):
    db.session.rollback()
    return problem(
        409,
        "replayed",
        "this signed request was already accepted; nothing changed. To send the body "
        "again, sign it with a new X-Timestamp",
    )


@bp.post("/orders")
@signed
def upsert_order():
    """Create or update an order from the mall's snapshot; older snapshots change nothing."""
    snapshot, merchant_id = order_ingest.read_order(json_body()), g.merchant_id
    result = order_ingest.upsert_order(merchant_id, snapshot, spending=g.signed)
    db.session.commit()
    if result.outcome in ("created", "updated") and result.sync_state == OrderState.PENDING:
        # Redis down loses nothing: the order is pending in the database and the sweeper queues it
        leave_to_sweeper_if_down(lambda: request_dispatch(merchant_id), f"order {result.order_no}")
    body = {
        "order_no": result.order_no,
        "outcome": result.outcome,
        "sync_state": result.sync_state,
        "snapshot_version": result.snapshot_version,
    }
    return jsonify(body), 201 if result.outcome == "created" else 200


@bp.post("/goods")
@signed
def upsert_goods():
    """Create or update goods and their specs (with merchant codes); what changed is pushed to WDT."""
    snapshots = goods_ingest.read_goods(json_body())
    accept_once()
    outcomes = goods_ingest.upsert_goods(g.merchant_id, snapshots)
    changed = goods_push.mark_changed(
        g.merchant_id, [goods_id for goods_id, outcome in outcomes.items() if outcome != "stale"]
    )
    db.session.commit()
    if changed:
        merchant_id = g.merchant_id
        leave_to_sweeper_if_down(lambda: request_goods_push(merchant_id), "the goods push")
    return jsonify({"goods": outcomes})


@bp.get("/orders/<path:order_no>")
@signed
def get_order(order_no: str):
    """The order's sync state as wdtpanel knows it (an order_no holding '/' arrives as %2F)."""
    order = order_ingest.find_order(g.merchant_id, order_no)
    if order is None:
        return problem(404, "not_found", f"no order {order_no}")
    status = order_ingest.order_status(order)
    message = render(order.sync_reason, order.sync_params, gettext) if order.sync_reason else None
    return jsonify(
        {**status, "message": message, "shipments": [shipping.shipment_view(s) for s in shipping.shipments_of(order)]}
    )


@bp.get("/stock")
@signed
def get_stock():
    """The last stock WDT reported for the SKUs with this merchant code (?merchant_code=…)."""
    code = read_or_refuse(STOCK_QUERY, request.args.to_dict())["merchant_code"]
    levels = stock.known_stock(g.merchant_id, code)
    if not levels:
        return problem(
            404,
            "not_found",
            f"no stock known for merchant_code {code}: WDT has not reported it yet, or no spec has this code",
        )
    return jsonify({"merchant_code": code, "stock": levels})


@bp.get("/openapi.json")
def openapi():
    """The API's description, generated from the definitions that read the requests."""
    return jsonify(openapi_document())
