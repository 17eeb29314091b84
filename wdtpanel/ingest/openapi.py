"""The OpenAPI 3.1 document of the ingest API, generated from the same definitions that read the requests."""

from __future__ import annotations

from ..states import OrderState, ShippingState
from .fields import Obj, component_ref
from .schema import GOODS_BATCH, MAX_JSON_DEPTH, ORDER, STOCK_QUERY
from .signature import REPLAY_WINDOW_SECONDS

OUTCOMES = ("created", "updated", "unchanged", "stale")

DESCRIPTION = f"""\
The mall tells wdtpanel about its orders and goods; wdtpanel pushes them to 旺店通 (WDT).

Every request is signed: `X-Api-Key`, `X-Timestamp` (Unix seconds, at most 12 digits, within \
{REPLAY_WINDOW_SECONDS} s of the server clock) and `X-Signature` = hex HMAC-SHA256(api_secret, X-Timestamp + "." + \
raw body). A signed write is accepted once: the same `X-Signature` again within the window is refused with 409 \
`replayed` (nothing changes; to send the same body again, sign it with a new timestamp). Reads change nothing and \
are not refused when repeated.

Bodies are JSON objects sent as `Content-Type: application/json` (charset utf-8 if given; else 415), nested at \
most {MAX_JSON_DEPTH} levels deep (else 400). Text must be valid Unicode without control characters; lengths \
count characters (code points), as WDT does. Amounts are decimal strings; times are ISO 8601 from 2000 to 2099 \
(without an offset they are Asia/Shanghai time). A field left out and a field set to null are the same.

Errors are JSON: `{{"error", "message"}}`, and for 422 `fields`: every bad field's path with what is wrong; \
nothing is stored. Limits mirror WDT's, so what WDT would refuse is refused here. Rules JSON Schema cannot \
express are listed under `x-rules` of the object they concern."""


def _json(description: str, component: str) -> dict:
    """A JSON response whose body is the schema component `component`."""
    return {"description": description, "content": {"application/json": {"schema": component_ref(component)}}}


def _problem(description: str) -> dict:
    return _json(description, "Problem")


WRITE_ERRORS = {
    "400": _problem("body is not a JSON object, or nested too deeply"),
    "401": _problem("bad key, timestamp or signature"),
    "409": _problem("replayed: this signed request was already accepted"),
    "413": _problem("body too large"),
    "415": _problem("Content-Type is not application/json"),
    "422": _problem("fields not valid, each named in `fields`; nothing stored"),
}

RESPONSE_SCHEMAS = {
    "Problem": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {
                "type": "string",
                "description": "bad_json, unauthorized, replayed, too_large, "
                "unsupported_media_type, invalid, not_found, method_not_allowed, …",
            },
            "message": {"type": "string"},
            "fields": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Field path (e.g. lines[0].price) -> what is wrong (422 only).",
            },
        },
    },
    "OrderOutcome": {
        "type": "object",
        "required": ["order_no", "outcome", "sync_state", "snapshot_version"],
        "properties": {
            "order_no": {"type": "string"},
            "outcome": {
                "enum": list(OUTCOMES),
                "description": "unchanged: same updated_at (or nothing WDT sees "
                "changed); stale: older than the stored snapshot, nothing changed.",
            },
            "sync_state": {"enum": list(OrderState)},
            "snapshot_version": {"type": "integer"},
        },
    },
    "OrderStatus": {
        "type": "object",
        "required": ["order_no", "sync_state", "snapshot_version", "shipping_state", "shipments"],
        "properties": {
            "order_no": {"type": "string"},
            "sync_state": {"enum": list(OrderState)},
            "reason": {"type": ["string", "null"], "description": "why the order is abnormal (a code)"},
            "reason_params": {"type": "object"},
            "message": {"type": ["string", "null"], "description": "the reason in words"},
            "push_attempts": {"type": "integer"},
            "pushed_at": {"type": ["string", "null"]},
            "snapshot_version": {"type": "integer"},
            "pushed_version": {"type": ["integer", "null"]},
            "shipping_state": {"enum": list(ShippingState)},
            "shipments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "tracking_no": {"type": "string"},
                        "carrier_code": {"type": "string"},
                        "wdt_logistics_code": {"type": "string"},
                        "shipped_at": {"type": ["string", "null"]},
                        "line_ids": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    },
    "Stock": {
        "type": "object",
        "required": ["merchant_code", "stock"],
        "properties": {
            "merchant_code": {"type": "string"},
            "stock": {
                "type": "array",
                "items": component_ref("StockLevel"),
                "description": "each SKU with this 商家编码 whose stock WDT has reported",
            },
        },
    },
    "StockLevel": {
        "type": "object",
        "required": ["goods_id", "spec_id", "merchant_code", "quantity", "version", "changed_at"],
        "properties": {
            "goods_id": {"type": "string"},
            "spec_id": {"type": "string", "description": "empty for a single-spec goods"},
            "merchant_code": {"type": ["string", "null"]},
            "quantity": {"type": "string", "description": "the sellable stock WDT computed, a decimal string"},
            "version": {
                "type": "integer",
                "description": "grows with every change of this SKU's stock; the "
                "stock.changed webhook carries the same number",
            },
            "changed_at": {"type": "string", "description": "when the panel recorded it (ISO 8601)"},
        },
    },
    "GoodsOutcome": {
        "type": "object",
        "required": ["goods"],
        "properties": {
            "goods": {
                "type": "object",
                "additionalProperties": {"enum": ["created", "updated", "stale"]},
                "description": "goods_id -> created | updated | stale",
            }
        },
    },
}


def query_parameters(shape: Obj, components: dict) -> list[dict]:
    """An object read from the query string, as OpenAPI parameters."""
    return [
        {"name": name, "in": "query", "required": item.required, "schema": item.json_schema(components)}
        for name, item in shape.fields.items()
    ]


def openapi_document() -> dict:
    components: dict = {}
    order_body = ORDER.json_schema(components)
    goods_body = GOODS_BATCH.json_schema(components)
    stock_query = query_parameters(STOCK_QUERY, components)
    components.update(RESPONSE_SCHEMAS)
    return {
        "openapi": "3.1.0",
        "info": {"title": "wdtpanel ingest API", "version": "1.1.0", "description": DESCRIPTION},
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
                "Timestamp": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Timestamp",
                    "description": f"Unix seconds, within {REPLAY_WINDOW_SECONDS} s of the server clock",
                },
                "Signature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Signature",
                    "description": "hex HMAC-SHA256(api_secret, X-Timestamp + '.' + raw body)",
                },
            },
        },
        "security": [{"ApiKey": [], "Timestamp": [], "Signature": []}],
        "paths": {
            "/api/v1/orders": {
                "post": {
                    "operationId": "upsertOrder",
                    "summary": "Create or update an order snapshot (keyed by order_no; the newest updated_at wins)",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": order_body}}},
                    "responses": {
                        "201": _json("created", "OrderOutcome"),
                        "200": _json("updated, unchanged or stale", "OrderOutcome"),
                        **WRITE_ERRORS,
                    },
                }
            },
            "/api/v1/orders/{order_no}": {
                "get": {
                    "operationId": "getOrder",
                    "summary": "An order's sync state and shipments",
                    "parameters": [
                        {
                            "name": "order_no",
                            "in": "path",
                            "required": True,
                            "description": "percent-encoded as any path segment (a '/' as %2F)",
                            "schema": {"type": "string", "minLength": 1},
                        }
                    ],
                    "responses": {
                        "200": _json("the order", "OrderStatus"),
                        "401": _problem("bad key, timestamp or signature"),
                        "404": _problem("no such order for this merchant"),
                    },
                }
            },
            "/api/v1/goods": {
                "post": {
                    "operationId": "upsertGoods",
                    "summary": "Create or update goods and their specs (with merchant codes); newest updated_at wins",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": goods_body}}},
                    "responses": {
                        "200": _json("each goods' outcome", "GoodsOutcome"),
                        **WRITE_ERRORS,
                    },
                }
            },
            "/api/v1/stock": {
                "get": {
                    "operationId": "getStock",
                    "summary": "The last stock WDT reported for the SKUs with this merchant code",
                    "parameters": stock_query,
                    "responses": {
                        "200": _json("the stock", "Stock"),
                        "401": _problem("bad key, timestamp or signature"),
                        "404": _problem("no stock known for this merchant code"),
                        "422": _problem("merchant_code missing or not valid"),
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
    }
