"""The simulator is as strict as WDT: one test per rule of docs/wdt-protocol.md, in each edition that has the rule.
Payloads are the real client's wire form of a valid sample, changed only in what the test is about."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.simulator_calls import DEMO, enterprise_call, push_enterprise, push_raw, ultimate_call
from tests.wdt_samples import raw_line, raw_refund, raw_trade
from wdtpanel.wdt.payloads import enterprise_refund, enterprise_trade, ultimate_refund_rows, ultimate_trade

RATE_LIMIT = "超过每分钟最大调用频率限制"


def state(sim) -> dict:
    return sim.get("/_sim/state").get_json()


def violations(sim, rule: str | None = None) -> list[dict]:
    return [item for item in state(sim)["violations"] if rule is None or item["rule"] == rule]


def stored(sim, tid: str) -> dict | None:
    return next((trade for trade in state(sim)["trades"] if trade["tid"] == tid), None)


def set_head(**values):
    return lambda head, lines: head.update(values)


def set_lines(**values):
    return lambda head, lines: [line.update(values) for line in lines]


def test_a_valid_trade_breaks_no_rule(sim, edition):
    assert push_raw(sim, edition, raw_trade("T1"))["ok"]
    assert violations(sim) == [] and stored(sim, "T1") is not None


def test_the_doc_example_of_push_self2_is_taken_as_it_is(sim):
    """The JSON example of sales.RawTrade.pushSelf2, as WDT's page prints it (docs/wdt-protocol.md#r-ult-amounts)."""
    head = {
        "is_auto_wms": False,
        "post_amount": 2,
        "other_amount": 5.2,
        "discount": 1,
        "platform_cost": 0,
        "cod_amount": "",
        "received": "",
        "tid": "tid-aqyYHjEldp",
        "process_status": 10,
        "trade_status": 30,
        "refund_status": 0,
        "pay_status": 2,
        "order_count": 2,
        "pay_method": 2,
        "trade_time": "2020-03-20 18:24:37",
        "pay_time": "2020-03-20 18:24:37",
        "end_time": "2020-03-20 18:24:37",
        "buyer_nick": "test_openapi",
        "buyer_message": "test_openapi",
        "buyer_email": "test_openapi@gmail.com",
        "buyer_area": "test_area",
        "receiver_name": "receiver_name",
        "receiver_area": "北京 北京市 朝阳区",
        "receiver_address": "春天街道春天花园小区1号楼1单元101",
        "receiver_zip": "014500",
        "receiver_mobile": "15612340987",
        "receiver_telno": "02288888888",
        "invoice_type": 0,
        "invoice_title": "",
        "invoice_content": "",
        "logistics_type": -1,
        "consign_interval": 0,
        "delivery_term": 1,
        "to_deliver_time": "",
        "pay_id": "",
        "pay_account": "",
        "remark": "",
        "remark_flag": 0,
        "goods_count": 6,
        "receivable": 17.6,
    }
    lines = [
        {
            "tid": "tid-aqyYHjEldp",
            "oid": f"tid-aqyYHjEldp-{n}",
            "order_type": 0,
            "status": 30,
            "refund_status": 0,
            "goods_id": f"openapi_gid-{n}",
            "spec_id": f"openapi_sid-{n}",
            "goods_no": f"api_gno-{n}",
            "spec_no": f"DEMO-000{n + 1}",
            "goods_name": f"api_gname-{n}",
            "spec_name": f"api_sname-{n}",
            "num": 3,
            "price": 2.5,
            "adjust_amount": 2,
            "refund_amount": "",
            "discount": 0.5,
            "share_discount": 0.2,
            "total_amount": 9,
            "cid": "",
            "remark": "",
            "json": "",
        }
        for n in range(2)
    ]
    lines[1]["share_amount"] = 8.8
    answer = ultimate_call(sim, "sales.RawTrade.pushSelf2", [DEMO.shop_no, [head], lines])
    assert answer["status"] == 0 and answer["data"]["error_list"] == [] and answer["data"]["new_count"] == 1
    assert violations(sim) == []


# --- required fields ---


def test_receiver_mobile_is_required(sim, edition):
    result = push_raw(sim, edition, raw_trade("T1"), change=set_head(receiver_mobile=""))
    assert not result["ok"] and "receiver_mobile" in result["message"] and "T1" in result["message"]
    assert stored(sim, "T1") is None
    assert violations(sim)[0]["rule"] == f"f-{'ent' if edition == 'enterprise' else 'ult'}-trade-receiver_mobile"


def test_ultimate_mobile_is_eleven_digits(sim):
    assert not push_raw(sim, "ultimate", raw_trade("T1", receiver_mobile="0571-8888888"))["ok"]
    assert not push_raw(sim, "ultimate", raw_trade("T2", receiver_mobile="138001380*0"))["ok"]
    assert [item["rule"] for item in violations(sim)] == ["r-ult-mobile", "r-phone-asterisk"]
    assert push_raw(sim, "enterprise", raw_trade("T3", receiver_mobile="0571-8888888"))["ok"]


def test_ultimate_receiver_area_is_required(sim):
    result = push_raw(sim, "ultimate", raw_trade("T1", receiver_province="", receiver_city="", receiver_district=""))
    assert not result["ok"] and "receiver_area" in result["message"]
    assert violations(sim, "r-ult-receiver-area")


def test_enterprise_province_city_district_are_required_unless_the_address_holds_them(sim):
    empty = dict(receiver_province="", receiver_city="", receiver_district="")
    result = push_raw(sim, "enterprise", raw_trade("T1", **empty))
    assert not result["ok"] and violations(sim, "r-ent-address")
    assert push_raw(sim, "enterprise", raw_trade("T2", receiver_address="浙江省 杭州市 西湖区 文三路100号", **empty))[
        "ok"
    ]


@pytest.mark.parametrize("field", ["goods_id", "goods_name"])
def test_line_fields_are_required(sim, edition, field):
    result = push_raw(sim, edition, raw_trade("T1"), change=set_lines(**{field: ""}))
    assert not result["ok"] and field in result["message"]


def test_ultimate_needs_spec_id_and_goods_no_enterprise_does_not(sim):
    for field in ("spec_id", "goods_no"):
        assert not push_raw(sim, "ultimate", raw_trade(f"U-{field}"), change=set_lines(**{field: ""}))["ok"]
        assert push_raw(sim, "enterprise", raw_trade(f"E-{field}"), change=set_lines(**{field: ""}))["ok"]


def test_enterprise_goods_no_and_spec_no_are_not_both_empty(sim):
    result = push_raw(
        sim,
        "enterprise",
        raw_trade("T1"),
        change=set_lines(goods_no="", spec_no=""),
    )
    assert not result["ok"] and "goods_no和spec_no不能同时为空" in result["message"]


# --- lengths, counted in characters ---


@pytest.mark.parametrize("field", ["goods_id", "spec_id", "goods_no", "spec_no", "oid"])
def test_line_codes_are_at_most_40_characters(sim, edition, field):
    result = push_raw(sim, edition, raw_trade("T1"), change=set_lines(**{field: "X" * 41}))
    assert not result["ok"] and field in result["message"]
    assert push_raw(
        sim,
        edition,
        raw_trade("T2", [raw_line("T2-1")]),
        change=set_lines(**{field: "码" * 40} if field != "spec_no" else {}),
    )["ok"]


def test_spec_name_is_at_most_100_characters(sim, edition):
    assert not push_raw(sim, edition, raw_trade("T1", [raw_line("T1-1", spec_name="红" * 101)]))["ok"]
    assert push_raw(sim, edition, raw_trade("T2", [raw_line("T2-1", spec_name="红" * 100)]))["ok"]


def test_receiver_name_is_40_characters_in_enterprise_100_in_ultimate(sim):
    name = "王" * 41
    assert not push_raw(sim, "enterprise", raw_trade("T1", receiver_name=name))["ok"]
    assert push_raw(sim, "enterprise", raw_trade("T2", receiver_name="王" * 40))["ok"]  # 120 bytes, 40 characters
    assert push_raw(sim, "ultimate", raw_trade("T3", receiver_name=name))["ok"]
    assert not push_raw(sim, "ultimate", raw_trade("T4", receiver_name="王" * 101))["ok"]


# --- enumerations and number formats ---


@pytest.mark.parametrize(
    ("where", "field", "value"),
    [
        ("head", "trade_status", 35),
        ("head", "delivery_term", 4),
        ("head", "logistics_type", 12),
        ("line", "status", 100),
        ("line", "refund_status", 7),
        ("head", "pay_status", 3),
    ],
)
def test_values_outside_the_code_tables_are_refused(sim, edition, where, field, value):
    change = set_head(**{field: value}) if where == "head" else set_lines(**{field: value})
    result = push_raw(sim, edition, raw_trade("T1"), change=change)
    assert not result["ok"] and field in result["message"]


def test_ultimate_pay_method_is_at_most_7(sim):
    result = push_raw(sim, "ultimate", raw_trade("T1"), change=set_head(pay_method=8))
    assert not result["ok"] and "pay_methodmust be less than or equal to 7" in result["message"]


def test_line_refund_status_6_exists_in_ultimate_only(sim):
    refunded = dict(status=90, refund_status=6)
    assert push_raw(sim, "ultimate", raw_trade("T1"), change=set_lines(**refunded))["ok"]
    assert not push_raw(sim, "enterprise", raw_trade("T2"), change=set_lines(**refunded))["ok"]


def test_numbers_must_be_numbers(sim, edition):
    result = push_raw(sim, edition, raw_trade("T1"), change=set_lines(price="12,5"))
    assert not result["ok"] and ("12,5" in result["message"] or "price" in result["message"])


def test_more_than_four_decimals_are_stored_rounded_and_recorded(sim, edition):
    assert push_raw(sim, edition, raw_trade("T1"), change=set_head(post_amount="10.00001", paid="33.75001"))["ok"]
    assert {item["effect"] for item in violations(sim)} == {"stored_wrong"}


def test_ultimate_quantities_are_whole(sim):
    result = push_raw(sim, "ultimate", raw_trade("T1", [raw_line("T1-1", num=Decimal("1.5"))]))
    assert not result["ok"] and "数量不合法" in result["message"]


def test_times_are_yyyy_mm_dd_hh_mm_ss(sim, edition):
    result = push_raw(sim, edition, raw_trade("T1"), change=set_head(trade_time="2026/01/02 10:00:00"))
    assert not result["ok"] and ("2026/01/02" in result["message"] or "trade_time" in result["message"])


# --- amounts ---


def test_enterprise_checks_paid_against_the_lines(sim):
    result = push_raw(sim, "enterprise", raw_trade("T1", paid=Decimal("23.75")))  # postage left out
    assert not result["ok"] and "已付金额不正确" in result["message"]
    assert push_raw(sim, "enterprise", raw_trade("T2", pay_status=0, paid=Decimal(0)))["ok"]


def test_enterprise_cod_orders_need_their_cod_amount(sim):
    result = push_raw(sim, "enterprise", raw_trade("T1", delivery_term=2, pay_status=0, paid=Decimal(0)))
    assert not result["ok"] and "COD金额不能为0" in result["message"]
    assert push_raw(
        sim, "enterprise", raw_trade("T2", delivery_term=2, pay_status=0, paid=Decimal(0), cod_amount=Decimal("33.75"))
    )["ok"]


def test_enterprise_line_refund_status_beyond_2_needs_status_80(sim):
    result = push_raw(sim, "enterprise", raw_trade("T1", [raw_line("T1-1", refund_status=3, status=50)]))
    assert not result["ok"] and "退款状态与子订单状态不一致" in result["message"]


def test_ultimate_amounts_are_checked_and_a_wrong_receivable_recorded(sim):
    assert push_raw(sim, "ultimate", raw_trade("T1"), change=set_head(receivable="33.7500"))["ok"]  # postage added
    [item] = violations(sim, "r-ult-amounts")
    assert item["effect"] == "stored_wrong" and "23.75" in item["detail"] and item["tid"] == "T1"


def test_ultimate_counts_must_add_up(sim):
    result = push_raw(sim, "ultimate", raw_trade("T1"), change=set_head(goods_count="5"))
    assert not result["ok"] and "goods_count" in result["message"]


# --- what WDT holds already ---


def test_an_oid_is_unique_per_seller_across_trades_and_fails_at_submit(sim, edition):
    assert push_raw(sim, edition, raw_trade("T1", [raw_line("L1")]))["ok"]
    assert push_raw(sim, edition, raw_trade("T2", [raw_line("L1")]))["ok"]  # WDT takes it ...
    [item] = violations(sim, "r-oid-unique")
    assert (item["tid"], item["effect"]) == ("T2", "fails_at_submit")
    answer = sim.post("/_sim/trades/T2/advance")  # ... and 递交 fails
    assert answer.status_code == 409 and "订单货品数量不一致" in answer.get_json()["error"]
    assert stored(sim, "T2")["stage"] == "待递交" and "订单货品数量不一致" in stored(sim, "T2")["bad_reason"]
    assert sim.post("/_sim/trades/T1/advance").status_code == 200


def test_a_repush_of_the_same_trade_keeps_its_oids(sim, edition):
    for _ in range(2):
        assert push_raw(sim, edition, raw_trade("T1", [raw_line("L1")]))["ok"]
    assert violations(sim) == [] and sim.post("/_sim/trades/T1/advance").status_code == 200


def test_num_and_price_cannot_change_after_the_first_push(sim, edition):
    push_raw(sim, edition, raw_trade("T1", [raw_line("L1")]))
    result = push_raw(sim, edition, raw_trade("T1", [raw_line("L1", num=Decimal(3))]))
    assert not result["ok"] and "L1" in result["message"] and violations(sim, "r-line-frozen")


def test_enterprise_takes_at_most_30_orders_of_one_buyer_per_call(sim):
    trades = [enterprise_trade(raw_trade(f"T{n}", buyer_nick="老客户")) for n in range(31)]
    answer = push_enterprise(sim, *trades)
    assert answer["code"] == 99 and state(sim)["trades"] == [] and violations(sim, "r-same-buyer")
    assert push_enterprise(sim, *trades[:30])["code"] == 0


def test_batch_sizes(sim):
    trades = [enterprise_trade(raw_trade(f"T{n}", buyer_nick=f"买家{n}")) for n in range(51)]
    assert "条数超过上限" in push_enterprise(sim, *trades)["message"] and violations(sim, "r-batch-size")


# --- refunds ---


def push_refund(sim, edition: str, refund, change=None) -> dict:
    if edition == "enterprise":
        row = enterprise_refund(DEMO.shop_no, refund)
        if change:
            change(row)
        answer = enterprise_call(sim, "sales_refund_push", {"api_refund_list": [row]})
        return {"ok": answer["code"] == 0, "message": answer["message"]}
    rows = ultimate_refund_rows(refund)
    if change:
        for row in rows:
            change(row)
    answer = ultimate_call(sim, "aftersales.refund.RawRefund.upload", [DEMO.shop_no, rows])
    return {"ok": answer["status"] == 0, "message": answer.get("message", "")}


def test_a_valid_refund_of_a_pushed_trade_is_taken(sim, edition):
    push_raw(sim, edition, raw_trade("T1"))
    assert push_refund(sim, edition, raw_refund())["ok"]
    assert violations(sim) == []


def test_refund_no_is_at_most_40_characters(sim, edition):
    push_raw(sim, edition, raw_trade("T1"))
    result = push_refund(sim, edition, raw_refund("R" * 41))
    assert not result["ok"] and "refund_no" in result["message"]


@pytest.mark.parametrize(("field", "value"), [("status", 6), ("type", 7)])
def test_refund_type_and_status_come_from_each_editions_table(sim, edition, field, value):
    push_raw(sim, edition, raw_trade("T1"))
    result = push_refund(sim, edition, raw_refund(), change=lambda row: row.update({field: value}))
    assert not result["ok"] and field in result["message"]


def test_exchange_is_an_ultimate_refund_type_only(sim):
    push_raw(sim, "enterprise", raw_trade("T1"))
    result = push_refund(sim, "enterprise", raw_refund(), change=lambda row: row.update(type=3))
    assert not result["ok"] and "type" in result["message"]


def test_a_refund_needs_its_trade(sim, edition):
    result = push_refund(sim, edition, raw_refund(tid="NOT-PUSHED"))
    assert not result["ok"] and violations(sim, "r-refund-trade")


# --- the quota ---


def test_calls_beyond_the_quota_get_wdts_rate_limit_answer(sim, edition):
    assert sim.post("/_sim/quota", json={"calls_per_minute": 2}).get_json()["calls_per_minute"] == 2
    results = [push_raw(sim, edition, raw_trade(f"T{n}")) for n in range(3)]
    assert [result["ok"] for result in results] == [True, True, False]
    answer = results[2]["answer"]
    assert RATE_LIMIT in answer["message"] and answer["code" if edition == "enterprise" else "status"] == 100
    assert stored(sim, "T2") is None and violations(sim, "r-quota")
    sim.post("/_sim/reset")
    assert push_raw(sim, edition, raw_trade("T2"))["ok"]


def test_the_quota_is_refused_when_not_a_whole_number(sim):
    assert sim.post("/_sim/quota", json={"calls_per_minute": 0}).status_code == 400
    assert sim.post("/_sim/quota", json={"calls_per_minute": None}).get_json()["calls_per_minute"] is None


# --- answers lost after the call is carried out ---


@pytest.mark.parametrize(("kind", "status"), [("5xx_after_store", 502), ("timeout_after_store", 504)])
def test_an_answer_lost_after_the_call_was_carried_out(sim, edition, kind, status):
    sim.post("/_sim/faults", json={"timeout_sleep_s": 0})
    sim.post("/_sim/faults/next", json={"kind": kind, "count": 1})
    assert sim.post("/openapi2/logistics.php", data={}).status_code == status
    sim.post("/_sim/faults/next", json={"kind": kind, "count": 1})
    if edition == "enterprise":
        answer = push_enterprise(sim, enterprise_trade(raw_trade("T1")))
    else:
        head, lines = ultimate_trade(raw_trade("T1"))
        answer = ultimate_call(sim, "sales.RawTrade.pushSelf2", [DEMO.shop_no, [head], lines])
    assert answer is None  # no JSON came back ...
    assert stored(sim, "T1") is not None  # ... but WDT holds the trade


def test_a_trade_needs_lines(sim, edition):
    def no_lines(head, lines):
        lines.clear()
        head.update(order_count=0, goods_count=0)

    result = push_raw(sim, edition, raw_trade("T1"), change=no_lines)
    assert not result["ok"] and stored(sim, "T1") is None
