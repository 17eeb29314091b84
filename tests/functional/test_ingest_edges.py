"""Hostile and odd input at the ingest API's edge: a clear 4xx naming the problem, never a 500, nothing stored;
WDT's limits refused at ingest; a signed write accepted once."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DataError

from tests.helpers import order_payload
from wdtpanel.extensions import db
from wdtpanel.ingest.orders import read_order, upsert_order
from wdtpanel.jobs import housekeeping
from wdtpanel.models import Goods, Order, OrderLine, SeenSignature


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(model.id)))


def goods_payload(**overrides) -> dict:
    goods = {
        "goods_id": "G1",
        "name": "保温杯",
        "updated_at": "2026-11-29T10:00:00+08:00",
        "specs": [{"spec_id": "S1", "name": "红色", "merchant_code": "DEMO-0001", "price": "66.60"}],
    }
    goods.update(overrides)
    return {"goods": [goods]}


def assert_refused(response, field: str) -> None:
    body = response.get_json()
    assert response.status_code == 422 and field in body.get("fields", {}), body


# --- text, numbers, times ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "place,field",
    [
        (lambda p: p, "order_no"),
        (lambda p: p["buyer"], "buyer.nick"),
        (lambda p: p["receiver"], "receiver.address"),
        (lambda p: p["lines"][0], "lines[0].goods_name"),
    ],
)
def test_a_lone_surrogate_in_a_text_field_is_422_not_500(mall_api, place, field):
    payload = order_payload()
    place(payload)[field.rsplit(".", 1)[-1]] = "王\ud800"
    assert_refused(mall_api.post("/api/v1/orders", payload), field)
    assert count(Order) == 0


def test_control_characters_are_refused_and_line_breaks_allowed_in_messages(mall_api):
    payload = order_payload()
    payload["receiver"]["name"] = "王\x00小明"  # PostgreSQL cannot even store a NUL
    assert_refused(mall_api.post("/api/v1/orders", payload), "receiver.name")
    payload = order_payload()
    payload["buyer"]["message"] = "请尽快发货\n谢谢"
    assert mall_api.post("/api/v1/orders", payload).status_code == 201


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T00:00:00", "9999-12-31T23:59:59-08:00", "1999-12-31T23:59:59Z", "2026-11-29", "2026-11-29 10:00:00"],
)
def test_times_that_do_not_exist_or_are_out_of_range_are_422(mall_api, moment):
    assert_refused(mall_api.post("/api/v1/orders", order_payload(created_at=moment)), "created_at")


@pytest.mark.parametrize("amount", ["1E+14", 204, " 204.80"])
def test_money_is_a_decimal_string_only(mall_api, amount):
    payload = order_payload()
    payload["amounts"]["paid"] = amount
    assert_refused(mall_api.post("/api/v1/orders", payload), "amounts.paid")


def test_nan_and_infinity_are_not_json(mall_api):
    body = json.dumps(order_payload()).replace('"quantity": 2', '"quantity": NaN').encode()
    assert mall_api.post("/api/v1/orders", body).status_code == 400


def test_json_nested_a_thousand_deep_is_400(mall_api):
    body = b'{"order_no": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    response = mall_api.post("/api/v1/orders", body)
    assert response.status_code == 400 and response.get_json()["error"] == "bad_json"


@pytest.mark.parametrize("body", [b"", b"[]", b"null", b'"order"'])
def test_an_empty_body_or_one_not_a_json_object_is_400(mall_api, body):
    response = mall_api.post("/api/v1/orders", body)
    assert response.status_code == 400 and response.get_json()["error"] == "bad_json"


def test_a_five_thousand_digit_timestamp_is_401(mall_api):
    body = json.dumps(order_payload()).encode()
    headers = mall_api.headers(body)
    headers["X-Timestamp"] = "9" * 5000
    response = mall_api.client.post("/api/v1/orders", data=body, headers=headers)
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"


# --- HTTP ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"]
)
def test_a_body_not_sent_as_json_is_415(mall_api, content_type):
    body = json.dumps(order_payload()).encode()
    headers = mall_api.headers(body)
    headers.pop("Content-Type")
    if content_type:
        headers["Content-Type"] = content_type
    response = mall_api.client.post("/api/v1/orders", data=body, headers=headers)
    assert response.status_code == 415 and response.get_json()["error"] == "unsupported_media_type"
    assert count(Order) == 0


@pytest.mark.parametrize(
    "method,path,status",
    [
        ("GET", "/api/v1/nothing-here", 404),
        ("POST", "/api/v1", 404),
        ("DELETE", "/api/v1/orders", 405),
        ("PUT", "/api/v1/goods", 405),
        ("POST", "/api/v1/orders/M1001", 405),
    ],
)
def test_unknown_paths_and_methods_under_the_api_answer_json(app, method, path, status):
    response = app.test_client().open(path, method=method)
    assert response.status_code == status and response.is_json, response.get_data(as_text=True)[:80]
    assert response.get_json()["error"] in ("not_found", "method_not_allowed")
    if status == 405:
        assert response.headers["Allow"]


def test_an_order_no_holding_a_slash_can_be_read_back(mall_api):
    assert mall_api.post("/api/v1/orders", order_payload("2026/11/29-0001")).status_code == 201
    response = mall_api.get("/api/v1/orders/2026%2F11%2F29-0001")
    assert response.status_code == 200 and response.get_json()["order_no"] == "2026/11/29-0001"


def test_reading_an_order_no_that_cannot_exist_is_404(mall_api):
    response = mall_api.get("/api/v1/orders/a%00b")  # PostgreSQL cannot even compare a NUL
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_an_api_key_no_merchant_could_have_is_401(mall_api):
    body = json.dumps(order_payload()).encode()
    headers = {**mall_api.headers(body), "X-Api-Key": "k\x00" + "y" * 100}
    assert mall_api.client.post("/api/v1/orders", data=body, headers=headers).status_code == 401


def test_a_line_value_longer_than_its_column_is_never_stored_cut_short(mall_api):
    """The schema refuses it first; behind it the database must refuse it too (PostgreSQL) or keep it whole
    (SQLite has no lengths), never cut it: a cut merchant code could name another SKU."""
    snapshot = read_order(order_payload())
    snapshot.lines[0].goods_name, snapshot.lines[0].merchant_code = "长" * 300, "C" * 70
    try:
        upsert_order(mall_api.merchant.id, snapshot)
        db.session.commit()
    except DataError:
        db.session.rollback()
        assert count(Order) == 0
        return
    line = stored_lines()[0]
    assert (line.goods_name, line.merchant_code) == ("长" * 300, "C" * 70)


def test_the_lines_are_stored_in_the_malls_order(mall_api):
    payload = order_payload()
    template = payload["lines"][1]
    payload["lines"] = [{**template, "line_id": f"L{n:02d}"} for n in range(30, 0, -1)]
    payload["amounts"]["paid"] = "2003.00"  # 30 × 66.60 − 5.00 + 10.00
    assert mall_api.post("/api/v1/orders", payload).status_code == 201
    assert [line.mall_line_id for line in stored_lines()] == [f"L{n:02d}" for n in range(30, 0, -1)]


def test_odd_text_and_extreme_amounts_are_stored_exactly(mall_api):
    """What the database keeps is what the mall sent, on either database (PostgreSQL sends the lines as JSON)."""
    payload = order_payload()
    first, second = payload["lines"]
    odd_name = '反斜杠\\ "引号" \u2028 换行 🍵 ☃'
    first.update(goods_name=odd_name, spec_name="a\\b\\\\c", price="9999999.9999", discount="0.0001")
    second.update(goods_name="'; DROP TABLE orders; --", merchant_code="", price="0.0001", quantity=3)
    # 2 × 9999999.9999 − 0.0001 + 3 × 0.0001
    payload["amounts"] = {"post": "0", "discount": "0", "paid": "20000000.0000"}
    assert mall_api.post("/api/v1/orders", payload).status_code == 201
    stored = [
        (line.goods_name, line.spec_name, line.price, line.discount, line.quantity, line.merchant_code)
        for line in stored_lines()
    ]
    assert stored == [
        (odd_name, "a\\b\\\\c", Decimal("9999999.9999"), Decimal("0.0001"), 2, "DEMO-0001"),
        ("'; DROP TABLE orders; --", "", Decimal("0.0001"), Decimal("0"), 3, None),
    ]


def stored_lines() -> list[OrderLine]:
    return list(db.session.scalars(select(OrderLine).order_by(OrderLine.id)))


# --- replay --------------------------------------------------------------------------------------------------


def test_a_signed_write_sent_again_is_refused_and_changes_nothing(mall_api):
    stamp = int(time.time())
    refused_body = json.dumps(order_payload(status="lost")).encode()
    for _ in range(2):  # a refused write has not spent its signature
        assert mall_api.post("/api/v1/orders", refused_body, timestamp=stamp).status_code == 422
    body = json.dumps(order_payload()).encode()
    assert mall_api.post("/api/v1/orders", body, timestamp=stamp).status_code == 201
    again = mall_api.post("/api/v1/orders", body, timestamp=stamp)
    assert again.status_code == 409 and again.get_json()["error"] == "replayed"
    assert mall_api.post("/api/v1/orders", body, timestamp=stamp - 1).get_json()["outcome"] == "unchanged"
    goods = json.dumps(goods_payload()).encode()
    assert mall_api.post("/api/v1/goods", goods, timestamp=stamp).status_code == 200
    assert mall_api.post("/api/v1/goods", goods, timestamp=stamp).status_code == 409


def test_an_update_refused_after_its_signature_was_spent_in_the_database_can_be_sent_again(mall_api):
    """The signature is spent in the update's transaction; the refusal that follows rolls it back."""
    assert mall_api.post("/api/v1/orders", order_payload()).status_code == 201
    db.session.execute(update(Order).values(sync_state="pushed", pushed_version=1))
    db.session.commit()
    changed = order_payload(updated_at="2026-11-30T09:00:00+08:00")
    changed["lines"][0]["quantity"] += 1
    changed["amounts"]["paid"] = "271.40"
    body, stamp = json.dumps(changed).encode(), int(time.time())
    for _ in range(2):
        refused = mall_api.post("/api/v1/orders", body, timestamp=stamp)
        assert refused.status_code == 422 and "lines[0].quantity" in refused.get_json()["fields"]
    assert count(SeenSignature) == 1  # the first write's


def test_a_new_order_whose_signature_is_spent_already_is_409_and_stores_nothing(mall_api):
    """Its signature spent by another write (a body valid for both endpoints, say): the statement that would create
    the order is refused whole, signature and order and lines together, though on PostgreSQL it commits itself."""
    assert mall_api.post("/api/v1/orders", order_payload("WARM")).status_code == 201  # API key cached: no
    # query begins a transaction before the insert, so PostgreSQL takes the self-committing statement, as it
    # does in a running web worker
    body, stamp = json.dumps(order_payload()).encode(), int(time.time())
    signature = mall_api.headers(body, timestamp=stamp)["X-Signature"]
    expires_at = datetime.fromtimestamp(stamp, UTC) + timedelta(minutes=5)
    db.session.add(SeenSignature(merchant_id=mall_api.merchant.id, signature=signature, expires_at=expires_at))
    db.session.commit()
    refused = mall_api.post("/api/v1/orders", body, timestamp=stamp)
    assert refused.status_code == 409 and refused.get_json()["error"] == "replayed"
    assert (count(Order), count(OrderLine), count(SeenSignature)) == (1, 2, 2)  # WARM's, and the spent one
    assert mall_api.post("/api/v1/orders", body, timestamp=stamp + 1).status_code == 201
    assert (count(Order), count(OrderLine), count(SeenSignature)) == (2, 4, 3)


def test_the_same_signed_write_sent_ten_times_at_once_is_accepted_once(app, mall_api):
    from tests.helpers import MallApi

    assert mall_api.post("/api/v1/orders", order_payload("WARM")).status_code == 201  # API key cached, as above
    body, stamp = json.dumps(order_payload()).encode(), int(time.time())
    barrier, statuses = threading.Barrier(10), []
    clients = [MallApi(app.test_client(), mall_api.merchant) for _ in range(10)]

    def send(api):
        barrier.wait()
        statuses.append(api.post("/api/v1/orders", body, timestamp=stamp).status_code)

    threads = [threading.Thread(target=send, args=(api,)) for api in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * 9
    assert (count(Order), count(OrderLine), count(SeenSignature)) == (2, 4, 2)


def test_expired_signatures_are_forgotten(mall_api):
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    db.session.add(SeenSignature(merchant_id=mall_api.merchant.id, signature="0" * 64, expires_at=long_ago))
    db.session.commit()
    assert mall_api.post("/api/v1/orders", order_payload()).status_code == 201
    assert housekeeping() == 1  # the sweeper's round: the expired signature goes, the fresh one stays
    assert db.session.scalars(select(SeenSignature.signature)).all() != ["0" * 64]
    assert count(SeenSignature) == 1


# --- what WDT would refuse -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutate,field",
    [
        (lambda p: p["lines"][0].update(goods_id="G" * 41), "lines[0].goods_id"),
        (lambda p: p["lines"][0].update(spec_id="S" * 41), "lines[0].spec_id"),
        (lambda p: p["lines"][0].update(merchant_code="C" * 41), "lines[0].merchant_code"),
        (lambda p: p["lines"][0].update(spec_name="规" * 101), "lines[0].spec_name"),
        (lambda p: p["lines"][0].update(goods_id=" G1"), "lines[0].goods_id"),
        (lambda p: p["receiver"].update(name="王" * 41), "receiver.name"),
        (lambda p: p["receiver"].update(mobile="", phone="0571-88888888"), "receiver.mobile"),
        (lambda p: p["receiver"].update(mobile="138****8000"), "receiver.mobile"),
        (lambda p: p["receiver"].update(mobile="+86 13800138000"), "receiver.mobile"),
        (lambda p: p["receiver"].update(phone="0571*8888"), "receiver.phone"),
        (lambda p: p["receiver"].pop("province"), "receiver.province"),
        (lambda p: p["receiver"].update(city=""), "receiver.city"),
        (lambda p: p["receiver"].update(district="\u3000"), "receiver.district"),
        (lambda p: p["receiver"].update(district="区" * 17), "receiver.district"),
        (lambda p: p["lines"][0].update(discount="133.21"), "lines[0].discount"),
        (lambda p: p["lines"][0].update(quantity=100_000), "lines[0].quantity"),
        (lambda p: p["lines"][0].update(price="10000000"), "lines[0].price"),
        (lambda p: p["amounts"].update(paid="204.79"), "amounts.paid"),
        (lambda p: p["amounts"].update(discount="200", paid="9.80"), "amounts.discount"),
    ],
)
def test_what_wdt_would_refuse_is_422_naming_the_field(mall_api, mutate, field):
    payload = order_payload()
    mutate(payload)
    assert_refused(mall_api.post("/api/v1/orders", payload), field)
    assert count(Order) == 0


def test_an_unpaid_order_may_send_paid_zero_and_a_closed_unpaid_one_needs_no_paid_at(mall_api):
    unpaid = order_payload("U1", status="unpaid", paid_at=None)
    unpaid["amounts"]["paid"] = "0"
    assert mall_api.post("/api/v1/orders", unpaid).status_code == 201
    closed = order_payload("C1", status="closed", paid_at=None)
    assert mall_api.post("/api/v1/orders", closed).status_code == 201


@pytest.mark.parametrize(
    "mutate,field",
    [
        (lambda g: g.update(goods_id="G" * 41), "goods[0].goods_id"),
        (lambda g: g["specs"][0].update(name="规" * 101), "goods[0].specs[0].name"),
        (lambda g: g["specs"][0].update(merchant_code="C" * 41), "goods[0].specs[0].merchant_code"),
    ],
)
def test_goods_wdt_would_refuse_are_422_naming_the_field(mall_api, mutate, field):
    payload = goods_payload()
    mutate(payload["goods"][0])
    assert_refused(mall_api.post("/api/v1/goods", payload), field)
    assert count(Goods) == 0


def test_the_same_goods_twice_in_one_batch_is_422(mall_api):
    payload = goods_payload()
    payload["goods"].append(dict(payload["goods"][0]))
    assert_refused(mall_api.post("/api/v1/goods", payload), "goods[1].goods_id")
