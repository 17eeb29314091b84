"""WdtClient with WDT mocked by `responses`: request shapes, batching, per-item errors and error classes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses

from tests.wdt_samples import TRADE_PUSH, URLS, goods_line, raw_line, raw_trade
from wdtpanel.reasons import render
from wdtpanel.simulator.rules import WORDING
from wdtpanel.wdt import (
    EDITION_ENTERPRISE,
    EDITION_ULTIMATE,
    LogisticsAck,
    RawRefund,
    RawTrade,
    RawTradeLine,
    WdtAccount,
    WdtClient,
    WdtError,
    WdtPermanentError,
    WdtTransientError,
    base_url_for,
)
from wdtpanel.wdt.errors import classify
from wdtpanel.wdt.payloads import int_of
from wdtpanel.wdt.signing import enterprise_sign, ultimate_sign

CLOCK = 1700000000.0
SECRET = "topsecret:pepper"
BOTH = pytest.mark.parametrize("edition", [EDITION_ENTERPRISE, EDITION_ULTIMATE])


def make_client(edition: str, **options) -> WdtClient:
    account = WdtAccount(edition, URLS[edition], "sid01", "key01", SECRET)
    return WdtClient(account, clock=lambda: CLOCK, **{"sleep": lambda seconds: None, **options})


@pytest.fixture
def enterprise():
    with make_client(EDITION_ENTERPRISE) as client:
        yield client


@pytest.fixture
def ultimate():
    with make_client(EDITION_ULTIMATE) as client:
        yield client


def line(oid="L1", **overrides) -> RawTradeLine:
    return raw_line(oid, **{"goods_name": "保温杯😀", **overrides})


def trade(tid="T1", **overrides) -> RawTrade:
    values = dict(
        ordered=datetime(2026, 11, 29, 2, 0, 0, tzinfo=UTC), pay_time=None, buyer_nick="小王🐱", lines=[line()]
    )
    values.update(overrides)
    return raw_trade(tid, **values)


def ok(edition: str, **payload) -> dict:
    if edition == EDITION_ENTERPRISE:
        return {"code": 0, "message": "", **payload}
    return {"status": 0, **payload}


def form_of(call) -> dict:
    return dict(parse_qsl(call.request.body))


def query_of(call) -> dict:
    return dict(parse_qsl(urlsplit(call.request.url).query))


def ultimate_args(call) -> list:
    return json.loads(call.request.body)


# --- request shapes ---


def test_enterprise_posts_a_signed_form_with_escaped_json(wdt, enterprise):
    wdt.post(TRADE_PUSH[EDITION_ENTERPRISE], json=ok(EDITION_ENTERPRISE, new_count=1, chg_count=0))
    assert enterprise.push_trades("mall01", [trade()]) == {"T1": None}
    call = wdt.calls[0]
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = form_of(call)
    assert form["sid"] == "sid01" and form["appkey"] == "key01" and form["timestamp"] == "1700000000"
    assert form["switch"] == "1" and form["shop_no"] == "mall01"
    assert form["sign"] == enterprise_sign(form, SECRET)
    assert form["trade_list"].isascii()  # \u-escaped: characters == bytes
    sent = json.loads(form["trade_list"])[0]
    assert sent["trade_time"] == "2026-11-29 10:00:00"  # Asia/Shanghai
    assert sent["pay_time"] == "0000-00-00 00:00:00"
    assert sent["buyer_nick"] == "小王" and sent["order_list"][0]["goods_name"] == "保温杯"  # 4-byte chars dropped
    assert sent["post_amount"] == "10.0000" and sent["paid"] == "33.7500"
    assert sent["order_list"][0]["num"] == "2.0000" and sent["order_list"][0]["price"] == "12.5000"
    assert sent["receiver_province"] == "浙江省" and sent["logistics_type"] == -1
    assert SECRET not in call.request.body


def test_enterprise_lenient_push_sends_switch_0(wdt, enterprise):
    wdt.post(TRADE_PUSH[EDITION_ENTERPRISE], json=ok(EDITION_ENTERPRISE))
    enterprise.push_trades("mall01", [trade()], strict=False)
    assert form_of(wdt.calls[0])["switch"] == "0"


def test_ultimate_signs_the_query_and_posts_the_arguments_as_json(wdt, ultimate):
    wdt.post(URLS[EDITION_ULTIMATE], json=ok(EDITION_ULTIMATE, data={"new_count": 1, "chg_count": 0, "error_list": []}))
    two_lines = [line("L1"), line("L2", num=Decimal(1), refund_status=5)]
    assert ultimate.push_trades("mall01", [trade(lines=two_lines)]) == {"T1": None}
    call = wdt.calls[0]
    assert call.request.headers["Content-Type"] == "application/json"
    query = query_of(call)
    assert query["method"] == "sales.RawTrade.pushSelf2" and query["v"] == "1.0"
    assert query["sid"] == "sid01" and query["key"] == "key01" and query["salt"] == "pepper"
    assert query["timestamp"] == str(1700000000 - 1325347200)
    body = call.request.body.decode()
    assert query["sign"] == ultimate_sign({**query, "body": body}, "topsecret")
    assert "topsecret" not in call.request.url + body
    shop_no, heads, lines = ultimate_args(call)
    assert shop_no == "mall01"
    head = heads[0]
    assert head["process_status"] == 10 and head["order_count"] == 2 and head["goods_count"] == "3.0000"
    assert head["receiver_area"] == "浙江省 杭州市 西湖区" and head["is_auto_wms"] is False
    assert head["pay_time"] is None and head["trade_time"] == "2026-11-29 10:00:00"
    assert head["discount"] == "2.0000"  # line discounts only (the doc's example)
    assert head["receivable"] == "35.0000"  # (25 - 1 - 0.25) + (12.5 - 1 - 0.25); postage is not in it
    assert head["pay_method"] == 1
    assert [row["tid"] for row in lines] == ["T1", "T1"] and "order_list" not in head
    assert lines[0]["total_amount"] == "24.0000" and lines[0]["refund_amount"] == "0.0000"
    assert lines[1]["refund_amount"] == "11.2500"


def test_timestamps_follow_the_clock(wdt):
    wdt.post(URLS[EDITION_ENTERPRISE] + "logistics.php", json=ok(EDITION_ENTERPRISE, logistics_list=[]))
    with WdtClient(
        WdtAccount(EDITION_ENTERPRISE, URLS[EDITION_ENTERPRISE], "s", "k", SECRET), clock=lambda: 1700000123.9
    ) as client:
        client.list_logistics()
    assert form_of(wdt.calls[0])["timestamp"] == "1700000123"


@pytest.mark.parametrize(
    ("edition", "environment", "custom", "expected"),
    [
        ("enterprise", "production", None, "https://api.wangdian.cn/openapi2/"),
        ("ultimate", "sandbox", None, "http://47.92.239.46/openapi"),
        ("enterprise", "custom", "http://127.0.0.1:8765", "http://127.0.0.1:8765/openapi2/"),
        ("enterprise", "custom", "http://127.0.0.1:8765/openapi2", "http://127.0.0.1:8765/openapi2/"),
        ("ultimate", "custom", "http://127.0.0.1:8765/", "http://127.0.0.1:8765/openapi"),
        ("ultimate", "custom", "http://127.0.0.1:8765/openapi/", "http://127.0.0.1:8765/openapi"),
    ],
)
def test_base_url_for(edition, environment, custom, expected):
    assert base_url_for(edition, environment, custom) == expected


@pytest.mark.parametrize(
    ("edition", "environment", "custom"), [("flagship", "production", None), ("enterprise", "custom", None)]
)
def test_base_url_for_refuses_what_it_cannot_build(edition, environment, custom):
    with pytest.raises(ValueError):
        base_url_for(edition, environment, custom)


# --- error classes ---

ERROR_CASES = [
    # edition, mocked answer, our code, transient
    ("enterprise", {"body": requests.ConnectionError("refused")}, "network", True),
    ("ultimate", {"body": requests.ConnectTimeout("slow")}, "network", True),
    ("enterprise", {"body": requests.ReadTimeout("slow")}, "timeout", True),
    ("ultimate", {"status": 502, "body": "Bad Gateway"}, "http_5xx", True),
    ("enterprise", {"status": 429, "body": ""}, "rate_limited", True),
    ("ultimate", {"json": {"status": 100, "message": "超过每分钟最大调用频率限制，请稍后重试"}}, "rate_limited", True),
    ("ultimate", {"json": {"status": "7", "message": "时间戳错误"}}, "clock_skew", True),
    ("enterprise", {"json": {"code": 1, "message": "timestamp 超出允许的误差范围(300秒)"}}, "clock_skew", True),
    ("enterprise", {"body": "<html>维护中</html>"}, "bad_response", True),
    ("ultimate", {"json": ["not", "an", "object"]}, "bad_response", True),
    ("enterprise", {"json": {"message": "no code"}}, "bad_response", True),
    ("ultimate", {"status": 404, "body": "Not Found"}, "bad_response", True),
    ("ultimate", {"json": {"status": 4, "message": "数据库错误"}}, "http_5xx", True),
    ("enterprise", {"json": {"code": "1", "message": "签名错误"}}, "auth_failed", False),
    ("ultimate", {"json": {"status": 1, "message": "验证失败"}}, "auth_failed", False),
    ("ultimate", {"json": {"status": 1, "message": "app auth fail"}}, "auth_failed", False),
    ("ultimate", {"json": {"status": 6, "message": "ip限制"}}, "auth_failed", False),
    ("ultimate", {"json": {"status": 1, "message": "sid is not exists"}}, "unknown_sid", False),
    ("enterprise", {"json": {"code": 100, "message": "店铺编号不存在或已停用"}}, "unknown_shop", False),
    ("ultimate", {"json": {"status": 100, "message": "店铺平台不是自有平台"}}, "shop_not_own_platform", False),
    ("ultimate", {"json": {"status": 100, "message": "无仓库访问权限"}}, "unknown_warehouse", False),
    ("enterprise", {"json": {"code": 100, "message": "trade_list 条数超过上限 50"}}, "batch_too_large", False),
]


@pytest.mark.parametrize(("edition", "answer", "code", "transient"), ERROR_CASES)
def test_call_failures_are_raised_with_a_reason(wdt, edition, answer, code, transient):
    wdt.post(TRADE_PUSH[edition], **answer)
    with make_client(edition) as client, pytest.raises(WdtError) as caught:
        client.push_trades("mall99", [trade()])
    error = caught.value
    assert (error.code, error.transient) == (code, transient)
    assert isinstance(error, WdtTransientError if transient else WdtPermanentError)
    assert error.params and str(error).startswith(error.code)
    assert "topsecret" not in str(error) + str(error.params) + repr(error)
    assert error.__cause__ is None  # the requests exception (and its URL) is not kept


def test_unknown_shop_message_names_the_shop_and_the_field(wdt, enterprise):
    wdt.post(TRADE_PUSH[EDITION_ENTERPRISE], json={"code": 100, "message": "店铺编号不存在或已停用"})
    with pytest.raises(WdtPermanentError) as caught:
        enterprise.push_trades("mall99", [trade()])
    assert caught.value.field == "shop_no" and caught.value.wdt_code == "100"
    assert "店铺编号 mall99" in str(caught.value) and caught.value.params["shop_no"] == "mall99"


def test_auth_failure_points_at_the_appsecret(wdt, ultimate):
    wdt.post(URLS[EDITION_ULTIMATE], json={"status": 1, "message": "验证失败"})
    with pytest.raises(WdtPermanentError) as caught:
        ultimate.list_logistics()
    assert caught.value.field == "appsecret" and caught.value.code == "auth_failed"
    assert caught.value.wdt_message == "验证失败"


def test_network_error_keeps_the_signed_url_out_of_the_message(wdt, ultimate):
    wdt.post(URLS[EDITION_ULTIMATE], body=requests.ConnectionError("https://wdt.test/openapi?salt=pepper&sign=x"))
    with pytest.raises(WdtTransientError) as caught:
        ultimate.list_logistics()
    assert "pepper" not in str(caught.value) and "wdt.test" in str(caught.value)


def test_account_repr_hides_the_secret():
    account = WdtAccount(EDITION_ULTIMATE, URLS[EDITION_ULTIMATE], "sid01", "key01", SECRET)
    assert "topsecret" not in repr(account) and "pepper" not in str(account)


# --- per-item answers ---


def test_ultimate_error_list_is_mapped_to_tids(wdt, ultimate):
    errors = [
        {"no": "T2", "error": "下单时间非法,原始单号为：T2"},
        {"no": "T3", "error": "原始单号 T3 的商家编码 X-1 在旺店通中不存在"},
    ]
    wdt.post(
        URLS[EDITION_ULTIMATE], json=ok(EDITION_ULTIMATE, data={"new_count": 1, "chg_count": 0, "error_list": errors})
    )
    results = ultimate.push_trades("mall01", [trade("T1"), trade("T2"), trade("T3")])
    assert results["T1"] is None
    assert results["T2"].code == "field_refused" and "下单时间非法" in results["T2"].params["detail"]
    assert results["T3"].code == "unknown_merchant_code" and "X-1" in results["T3"].params["detail"]
    assert results["T3"].field == "spec_no"


def refuse_trades_containing(bad_tids: set[str], message: str = "原始单号 {tid} 的商家编码 NOPE 在旺店通中不存在"):
    """An enterprise WDT that refuses a whole trade_push because of its first bad trade, with `message`."""

    def answer(request):
        tids = [item["tid"] for item in json.loads(dict(parse_qsl(request.body))["trade_list"])]
        bad = [tid for tid in tids if tid in bad_tids]
        if bad:
            return 200, {}, json.dumps({"code": 100, "message": message.format(tid=bad[0])})
        return 200, {}, json.dumps({"code": 0, "new_count": len(tids), "chg_count": 0})

    return answer


def sent_tids(calls) -> list[list[str]]:
    return [[item["tid"] for item in json.loads(form_of(call)["trade_list"])] for call in calls]


def test_a_refusal_naming_a_trade_sets_that_trade_aside(wdt, enterprise):
    wdt.add_callback(responses.POST, TRADE_PUSH[EDITION_ENTERPRISE], callback=refuse_trades_containing({"T3", "T7"}))
    tids = [f"T{number}" for number in range(1, 9)]
    results = enterprise.push_trades("mall01", [trade(tid) for tid in tids])
    assert set(results) == set(tids)
    assert {tid for tid, error in results.items() if error} == {"T3", "T7"}
    assert results["T3"].code == "unknown_merchant_code"
    # all 8; the 7 without T3; the 6 without T7
    assert [len(batch) for batch in sent_tids(wdt.calls)] == [8, 7, 6]


def test_an_item_refusal_naming_no_trade_halves_the_batch(wdt, enterprise):
    wdt.add_callback(
        responses.POST,
        TRADE_PUSH[EDITION_ENTERPRISE],
        callback=refuse_trades_containing({"T3"}, "Data too long for column 'receiver_name'"),
    )
    results = enterprise.push_trades("mall01", [trade(f"T{number}") for number in range(1, 9)])
    assert {tid for tid, error in results.items() if error} == {"T3"}
    assert results["T3"].code == "field_refused"
    # 8; 4 + 4; the half with T3 as 2 + 2; the pair with T3 one by one
    assert [len(batch) for batch in sent_tids(wdt.calls)] == [8, 4, 4, 2, 2, 1, 1]


def test_an_unrecognised_refusal_fails_the_batch_without_halving(wdt, enterprise):
    wdt.add_callback(
        responses.POST, TRADE_PUSH[EDITION_ENTERPRISE], callback=refuse_trades_containing({"T3"}, "系统繁忙XYZ")
    )
    results = enterprise.push_trades("mall01", [trade(f"T{number}") for number in range(1, 9)])
    assert len(wdt.calls) == 1
    assert all(error.code == "business" and error.wdt_message == "系统繁忙XYZ" for error in results.values())


def test_account_level_refusal_is_raised_not_bisected(wdt, enterprise):
    wdt.post(TRADE_PUSH[EDITION_ENTERPRISE], json={"code": 100, "message": "店铺平台不是自有平台"})
    with pytest.raises(WdtPermanentError):
        enterprise.push_trades("tmall01", [trade("T1"), trade("T2")])
    assert len(wdt.calls) == 1


@BOTH
def test_ack_errors_are_mapped_to_rec_ids(wdt, edition):
    if edition == EDITION_ENTERPRISE:
        url, answer = (
            URLS[edition] + "logistics_sync_ack.php",
            ok(edition, errors=[{"rec_id": 1002, "error": "非待同步状态,不可更新"}]),
        )
    else:
        url, answer = URLS[edition], ok(edition, data=["物流同步记录 1002 非待同步状态,不可更新"])
    wdt.post(url, json=answer)
    acks = [
        LogisticsAck("1001", True, "同步成功"),
        LogisticsAck("1002", True, "同步成功"),
        LogisticsAck("10021", False, "商城无此订单"),
    ]
    with make_client(edition) as client:
        results = client.ack_logistics_sync(acks)
    assert results["1001"] is None and results["10021"] is None
    assert "非待同步状态" in results["1002"]
    body = form_of(wdt.calls[0])["logistics_list"] if edition == EDITION_ENTERPRISE else wdt.calls[0].request.body
    sent = json.loads(body)
    items = sent if edition == EDITION_ENTERPRISE else sent[0]
    assert [item["status"] for item in items] == ([0, 0, 1] if edition == EDITION_ENTERPRISE else [0, 0, 2])


def test_ultimate_ack_error_naming_no_record_goes_to_all_records(wdt, ultimate):
    wdt.post(URLS[EDITION_ULTIMATE], json=ok(EDITION_ULTIMATE, data=["同步结果状态为空!"]))
    results = ultimate.ack_logistics_sync([LogisticsAck("1", True, ""), LogisticsAck("2", True, "")])
    assert results == {"1": "同步结果状态为空!", "2": "同步结果状态为空!"}


def test_enterprise_goods_errors_are_mapped_to_lines(wdt, enterprise):
    wdt.post(
        URLS[EDITION_ENTERPRISE] + "api_goodsspec_push.php",
        json=ok(
            EDITION_ENTERPRISE,
            new_count=1,
            chg_count=0,
            errors=[
                {"goods_id": "G2", "spec_id": "S2", "error": "商家编码 X-2 不存在"},
                {"goods_id": "G3", "spec_id": "S3", "error": "spec_id不能为空"},
            ],
        ),
    )
    results = enterprise.push_goods("mall01", [goods_line(1), goods_line(2), goods_line(3)])
    assert results[("G1", "S1")] is None
    assert results[("G2", "S2")].code == "unknown_merchant_code" and results[("G3", "S3")].code == "field_refused"
    info = json.loads(form_of(wdt.calls[0])["api_goods_info"])
    assert info["platform_id"] == 127 and info["goods_list"][0]["price"] == "9.9000"
    assert info["goods_list"][0]["spec_no"] == "DEMO-0001" and info["goods_list"][0]["status"] == 1


def test_ultimate_goods_refused_as_a_whole_are_narrowed_to_the_bad_line(wdt, ultimate):
    def answer(request):
        [param] = json.loads(request.body)
        if any(len(row["goods_id"]) > 40 for row in param["goods_list"]):
            return (
                200,
                {},
                json.dumps({"status": 100, "message": "Data truncation: Data too long for column 'goods_id' at row 1"}),
            )
        return 200, {}, json.dumps({"status": 0, "data": {"status": 0, "rec_ids": [1]}})

    wdt.add_callback(responses.POST, URLS[EDITION_ULTIMATE], callback=answer)
    lines = [goods_line(1), goods_line(2, goods_id="G" * 41), goods_line(3)]
    results = ultimate.push_goods("mall01", lines)
    assert results[("G1", "S1")] is None and results[("G3", "S3")] is None
    assert results[("G" * 41, "S2")].code == "field_refused"
    assert query_of(wdt.calls[0])["method"] == "goods.ApiGoods.upload"
    assert [row["spec_id"] for row in ultimate_args(wdt.calls[0])[0]["goods_list"]] == ["S1", "S2", "S3"]


def test_refused_refund_is_isolated_and_returned_as_text(wdt, ultimate):
    def answer(request):
        _, rows = json.loads(request.body)
        if any(row["tid"] == "NOPE" for row in rows):
            return 200, {}, json.dumps({"status": 100, "message": "原始订单 NOPE 不存在,无法创建退款单"})
        return 200, {}, json.dumps({"status": 0, "data": {"new_count": 1, "chg_count": 0}})

    wdt.add_callback(responses.POST, URLS[EDITION_ULTIMATE], callback=answer)
    moment = datetime(2026, 11, 29, tzinfo=UTC)
    refunds = [
        RawRefund("R1", "T1", 2, 5, Decimal("12.3"), "小王", moment, "不想要了", [("L1", 1), ("L2", 2)]),
        RawRefund("R2", "NOPE", 2, 2, Decimal(1), "小王", moment, "", [("X", 1)]),
    ]
    assert ultimate.push_refunds("mall01", refunds) == {"R1": None, "R2": "原始订单 NOPE 不存在,无法创建退款单"}
    assert len(wdt.calls) == 2  # the refusal names R2's trade: R2 is set aside, R1 goes alone
    _, rows = json.loads(wdt.calls[-1].request.body)
    assert [(row["oid"], row["num"], row["refund_amount"]) for row in rows] == [
        ("L1", "1.0000", "12.3000"),
        ("L2", "2.0000", "0.0000"),
    ]
    assert rows[0]["actual_refund_amount"] == "12.3000" and rows[0]["refund_time"] == "2026-11-29 08:00:00"


# --- batching ---


@pytest.mark.parametrize(
    ("edition", "count", "sizes"),
    [
        ("enterprise", 120, [50, 50, 20]),
        ("ultimate", 150, [100, 50]),
    ],
)
def test_trades_are_split_into_batches(wdt, edition, count, sizes):
    wdt.post(TRADE_PUSH[edition], json=ok(edition, data={"error_list": []}))
    with make_client(edition) as client:
        results = client.push_trades("mall01", [trade(f"T{n}", buyer_nick=f"买家{n}") for n in range(count)])
    assert len(results) == count and all(error is None for error in results.values())
    if edition == EDITION_ENTERPRISE:
        sent = [len(json.loads(form_of(call)["trade_list"])) for call in wdt.calls]
    else:
        sent = [len(ultimate_args(call)[1]) for call in wdt.calls]
    assert sent == sizes


def test_acks_goods_and_refunds_are_split_into_batches(wdt, enterprise):
    for script, payload in (
        ("logistics_sync_ack", {"errors": []}),
        ("api_goodsspec_push", {"errors": []}),
        ("sales_refund_push", {}),
    ):
        wdt.post(f"{URLS[EDITION_ENTERPRISE]}{script}.php", json=ok(EDITION_ENTERPRISE, **payload))
    enterprise.ack_logistics_sync([LogisticsAck(str(n), True, "") for n in range(120)])
    enterprise.push_goods("mall01", [goods_line(n) for n in range(4500)])
    moment = datetime(2026, 11, 29, tzinfo=UTC)
    enterprise.push_refunds(
        "mall01", [RawRefund(f"R{n}", "T1", 2, 2, Decimal(1), "a", moment, "", [("L1", 1)]) for n in range(25)]
    )
    sizes = {}
    for call in wdt.calls:
        script = urlsplit(call.request.url).path.rsplit("/", 1)[1]
        field = {
            "logistics_sync_ack.php": "logistics_list",
            "api_goodsspec_push.php": "api_goods_info",
            "sales_refund_push.php": "api_refund_list",
        }[script]
        value = json.loads(form_of(call)[field])
        sizes.setdefault(script, []).append(len(value["goods_list"] if isinstance(value, dict) else value))
    assert sizes == {
        "logistics_sync_ack.php": [50, 50, 20],
        "api_goodsspec_push.php": [2000, 2000, 500],
        "sales_refund_push.php": [10, 10, 5],
    }


# --- reading answers ---


def test_enterprise_records_keep_ids_as_strings_and_parse_times(wdt, enterprise):
    record = {
        "rec_id": "2778958909363191820",
        "tid": 1234567,
        "logistics_no": "ZT100",
        "logistics_code_erp": "YS001",
        "logistics_name_erp": "中通(自有)",
        "logistics_type": "5",
        "consign_time": "2026-11-29 10:00:00",
        "oids": "L1, L2",
        "is_part_sync": "1",
    }
    wdt.post(URLS[EDITION_ENTERPRISE] + "logistics_sync_query.php", json=ok(EDITION_ENTERPRISE, trades=[record]))
    [parsed] = enterprise.query_logistics_sync("mall01", limit=500)
    assert parsed.rec_id == "2778958909363191820" and parsed.tid == "1234567"
    assert parsed.logistics_code == "YS001" and parsed.logistics_name == "中通(自有)"
    assert parsed.oids == ["L1", "L2"] and parsed.is_part_sync is True
    assert parsed.consign_time == datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    assert form_of(wdt.calls[0])["limit"] == "100"  # WDT's maximum


def test_ultimate_records_and_lookups(wdt, ultimate):
    wdt.post(
        URLS[EDITION_ULTIMATE],
        json=ok(
            EDITION_ULTIMATE,
            total=1,
            data=[
                {
                    "sync_id": 152650,
                    "tid": "T1",
                    "logistics_no": "SF1",
                    "logistics_code": "YZBK",
                    "logistics_name": "中国邮政",
                    "is_part_sync": 0,
                    "oids": "",
                    "created": "0000-00-00 00:00:00",
                }
            ],
        ),
    )
    [record] = ultimate.query_logistics_sync("mall01")
    assert record.rec_id == "152650" and record.oids == [] and record.consign_time is None
    query = query_of(wdt.calls[0])
    assert query["page_size"] == "100" and query["page_no"] == "0"
    assert ultimate_args(wdt.calls[0]) == [{"shop_no": "mall01", "is_own_platform": True}]


def test_lookups_find_the_exact_row_or_none(wdt, ultimate):
    shops = [
        {"shop_no": "mall011", "platform_id": 127},
        {"shop_no": "mall01", "platform_id": "127", "shop_name": "自营"},
    ]
    wdt.post(URLS[EDITION_ULTIMATE], json=ok(EDITION_ULTIMATE, data={"total_count": 2, "details": shops}))
    wdt.post(URLS[EDITION_ULTIMATE], json={"status": 100, "message": "店铺编号不存在或已停用"})
    assert ultimate.get_shop("mall01")["shop_name"] == "自营"
    assert ultimate.get_shop("mall02") is None


def test_logistics_companies_are_read_page_by_page(wdt, ultimate):
    def page(number, count):
        return ok(
            EDITION_ULTIMATE,
            data={
                "total_count": 130,
                "details": [
                    {
                        "logistics_no": f"C{number}-{n}",
                        "logistics_name": "快递",
                        "logistics_type": 5,
                        "is_disabled": n == 0,
                    }
                    for n in range(count)
                ],
            },
        )

    wdt.post(URLS[EDITION_ULTIMATE], json=page(0, 100))
    wdt.post(URLS[EDITION_ULTIMATE], json=page(1, 30))
    companies = ultimate.list_logistics()
    assert len(companies) == 130 and companies[0].disabled and not companies[1].disabled
    assert companies[0].logistics_type == "5"
    assert [query_of(call)["page_no"] for call in wdt.calls] == ["0", "1"]


def test_check_connection_reports_field_by_field(wdt, enterprise):
    wdt.post(
        URLS[EDITION_ENTERPRISE] + "logistics.php",
        json=ok(
            EDITION_ENTERPRISE,
            logistics_list=[
                {"logistics_no": "ZTO", "logistics_name": "中通快递", "logistics_type": 5, "is_disabled": "0"}
            ],
        ),
    )
    wdt.post(
        URLS[EDITION_ENTERPRISE] + "shop.php",
        json=ok(EDITION_ENTERPRISE, shoplist=[{"shop_no": "tmall01", "platform_id": 1}]),
    )
    wdt.post(URLS[EDITION_ENTERPRISE] + "warehouse_query.php", json=ok(EDITION_ENTERPRISE, warehouses=[]))
    report = enterprise.check_connection("tmall01", "wh99")
    assert report.credentials.ok and not report.ok
    assert (
        not report.shop.ok
        and "自有平台" in render(report.shop.code, report.shop.params)
        and "tmall01" in render(report.shop.code, report.shop.params)
    )
    assert not report.warehouse.ok and "wh99" in render(report.warehouse.code, report.warehouse.params)
    assert [company.code for company in report.logistics] == ["ZTO"]


def test_check_connection_stops_at_bad_credentials(wdt, enterprise):
    wdt.post(URLS[EDITION_ENTERPRISE] + "logistics.php", json={"code": 1, "message": "签名错误"})
    report = enterprise.check_connection("mall01", "wh01")
    assert not report.credentials.ok and report.credentials.code == "auth_failed"
    assert not report.shop.ok and not report.warehouse.ok and report.logistics == []
    assert len(wdt.calls) == 1


def test_naive_datetimes_are_refused(wdt, enterprise):
    with pytest.raises(ValueError):
        enterprise.push_trades("mall01", [trade(trade_time=datetime.now() - timedelta(hours=1))])
    assert not wdt.calls


@pytest.mark.parametrize(
    ("edition", "message", "code"),
    [
        *[
            (edition, template.format(name="receiver_mobile", limit=40, value="x"), "field_refused")
            for edition, words in WORDING.items()
            for template in words.values()
        ],
        ("ultimate", "收件人手机必须为11位手机号码,原始单号为：T1", "field_refused"),
        ("ultimate", "电话号码不能包含*,原始单号为：T1", "field_refused"),
        ("ultimate", "goods_count 与子单数量之和不符,原始单号为：T1", "field_refused"),
        ("ultimate", "数量不合法,原始单号为：T1", "field_refused"),
        ("enterprise", "子订单L1退款状态与子订单状态不一致,原始单号为：T1", "field_refused"),
        ("enterprise", "goods_no和spec_no不能同时为空,原始单号为：T1", "field_refused"),
        ("enterprise", "已付金额不正确 paid,原始单号为：T1", "amounts_inconsistent"),
        ("enterprise", "货到付款订单COD金额不能为0,原始单号为：T1", "amounts_inconsistent"),
        ("enterprise", "推送订单信息错误，错误内容：售后单关联的原始单不存在", "refund_rejected"),
        ("enterprise", "buyer_nick 名字不能只用一个，不同客户必须用不同的名字", "batch_too_large"),
        ("enterprise", "订单货品数量或价格不一致,原始单号为：T1,子订单号为：L1", "line_changed"),
    ],
)
def test_the_simulators_refusals_are_recognised(edition, message, code):
    assert classify(edition, "100", message) == code


@pytest.mark.parametrize(
    "answer",
    [
        {"body": "ami-id\ninstance-id\niam/security-credentials/admin", "content_type": "text/plain"},
        {"json": {"AccessKeyId": "AKIA-INTERNAL", "Token": "secret-token"}},
    ],
)
def test_an_answer_that_is_not_wdts_is_never_echoed(wdt, answer):
    """A custom address may be made to point inside the network: what it answers must not reach the page."""
    wdt.post(TRADE_PUSH["enterprise"], **answer)
    with make_client("enterprise") as client, pytest.raises(WdtError) as caught:
        client.push_trades("mall99", [trade()])
    shown = str(caught.value) + str(caught.value.params)
    assert caught.value.code == "bad_response"
    assert "security-credentials" not in shown and "AKIA" not in shown and "secret-token" not in shown


def test_half_a_character_in_an_answer_becomes_a_replacement_character(wdt, enterprise):
    """A lone surrogate escape (\\ud800) decodes to text no column or encoder takes; a whole pair stays."""
    body = (
        '{"code": 0, "message": "", "trades": [{"rec_id": 7, "tid": "M1\\ud800", "logistics_no": "ZT\\udc00",'
        ' "logistics_code_erp": "ZTO", "logistics_name_erp": "中通\\ud83d\\ude9a", "oids": "", "is_part_sync": 0}]}'
    )
    wdt.post(URLS[EDITION_ENTERPRISE] + "logistics_sync_query.php", body=body, content_type="application/json")
    [record] = enterprise.query_logistics_sync("mall01", 100)
    assert (record.tid, record.logistics_no, record.logistics_name) == ("M1\ufffd", "ZT\ufffd", "中通🚚")
    assert record.raw["tid"] == "M1\ufffd"


def test_numbers_no_float_holds_are_kept_as_their_text_and_acked_as_zero(wdt, enterprise):
    body = (
        '{"code": 0, "message": "", "stock_change_list": ['
        '{"rec_id": 1, "spec_no": "A", "sync_stock": NaN, "stock_change_count": Infinity},'
        '{"rec_id": 2, "spec_no": "B", "sync_stock": 1e999, "stock_change_count": "1e999999999"},'
        '{"rec_id": 3, "spec_no": "C", "sync_stock": 12.5, "stock_change_count": 3}]}'
    )
    wdt.post(URLS[EDITION_ENTERPRISE] + "api_goods_stock_change_query.php", body=body, content_type="application/json")
    nan, huge, fine = enterprise.query_stock_changes("mall01", 100)
    assert nan.quantity.is_nan() and nan.raw["sync_stock"] == "NaN" and nan.change_count == 0
    assert huge.quantity == Decimal("1e999") and huge.raw["sync_stock"] == "1e999" and huge.change_count == 0
    assert (fine.quantity, fine.change_count) == (Decimal("12.5"), 3)
    json.dumps([nan.raw, huge.raw], allow_nan=False)  # what is kept of them is JSON a database takes
    assert [int_of(change.quantity) for change in (nan, huge, fine)] == [0, 0, 12]
