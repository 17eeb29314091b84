"""The real WdtClient against the simulator over real HTTP, in both editions."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests

from tests.wdt_samples import goods_line, raw_line, raw_trade
from wdtpanel.reasons import render
from wdtpanel.wdt import (
    BATCH_LIMITS,
    LogisticsAck,
    RawRefund,
    RawTrade,
    RawTradeLine,
    StockAck,
    WdtAccount,
    WdtClient,
    WdtPermanentError,
    WdtTransientError,
    base_url_for,
)
from wdtpanel.wdt.payloads import enterprise_trade, ultimate_trade


@pytest.fixture(params=["enterprise", "ultimate"])
def edition(request):
    return request.param


def connect(
    simulator,
    edition: str,
    root_url: str | None = None,
    clock=time.time,
    read_timeout: float = 5.0,
    before_call=None,
    sleep=lambda seconds: None,
    **account,
) -> WdtClient:
    demo = simulator.account
    values = {"sid": demo.sid, "appkey": demo.appkey, "appsecret": demo.appsecret, **account}
    return WdtClient(
        WdtAccount(edition, base_url_for(edition, "custom", root_url or simulator.root_url), **values),
        connect_timeout=2.0,
        read_timeout=read_timeout,
        clock=clock,
        before_call=before_call,
        sleep=sleep,
    )


@pytest.fixture
def client(wdt_simulator, edition):
    with connect(wdt_simulator, edition) as client:
        yield client


def line(oid: str, code: str = "DEMO-0001", num: int = 1, price: str = "66.6") -> RawTradeLine:
    return raw_line(
        oid, num=Decimal(num), price=Decimal(price), spec_no=code, discount=Decimal(0), share_discount=Decimal("0.5")
    )


def trade(
    tid: str,
    lines: list[RawTradeLine] | None = None,
    ordered: datetime | None = None,
    receiver: str = "王小明",
    **overrides,
) -> RawTrade:
    return raw_trade(
        tid,
        lines or [line(f"{tid}-1"), line(f"{tid}-2", "DEMO-0002", 2)],
        ordered=ordered,
        receiver_name=receiver,
        **overrides,
    )


def sim_trade(simulator, tid: str) -> dict | None:
    return next((t for t in simulator.state()["trades"] if t["tid"] == tid), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- raw trades ---


def test_push_lands_and_a_repush_changes_the_same_trade(client, wdt_simulator):
    assert client.push_trades("mall01", [trade("M1"), trade("M2", receiver="李雷😀")]) == {"M1": None, "M2": None}
    stored = sim_trade(wdt_simulator, "M1")
    assert stored["push_count"] == 1 and stored["receiver_name"] == "王小明" and stored["shop_no"] == "mall01"
    assert [(line["oid"], line["spec_no"], Decimal(line["num"])) for line in stored["lines"]] == [
        ("M1-1", "DEMO-0001", 1),
        ("M1-2", "DEMO-0002", 2),
    ]
    assert sim_trade(wdt_simulator, "M2")["receiver_name"] == "李雷"  # the emoji was dropped before sending
    assert client.push_trades("mall01", [trade("M1")]) == {"M1": None}
    assert sim_trade(wdt_simulator, "M1")["push_count"] == 2
    assert len(wdt_simulator.state()["trades"]) == 2


def test_repush_is_counted_as_a_change_not_new(client, edition):
    client.push_trades("mall01", [trade("M1")])
    if edition == "enterprise":
        answer = client.wire.call("trade_push", {"shop_no": "mall01", "trade_list": [enterprise_trade(trade("M1"))]})
    else:
        head, rows = ultimate_trade(trade("M1"))
        answer = client.wire.call("sales.RawTrade.pushSelf2", ["mall01", [head], rows])["data"]
    assert (answer["new_count"], answer["chg_count"]) == (0, 1)


def test_future_trade_time_is_refused_per_trade(client, wdt_simulator):
    results = client.push_trades(
        "mall01", [trade("OK1"), trade("LATER", ordered=datetime.now(UTC) + timedelta(days=1))]
    )
    assert results["OK1"] is None
    assert isinstance(results["LATER"], WdtPermanentError) and "下单时间非法" in results["LATER"].wdt_message
    assert sim_trade(wdt_simulator, "LATER") is None and sim_trade(wdt_simulator, "OK1") is not None


def test_changed_quantity_of_a_pushed_line_is_refused(client, wdt_simulator):
    client.push_trades("mall01", [trade("M1")])
    changed = trade("M1", lines=[line("M1-1", num=3), line("M1-2", "DEMO-0002", 2)])
    error = client.push_trades("mall01", [changed])["M1"]
    assert error.code == "line_changed" and not error.transient and "M1-1" in error.params["detail"]
    assert sim_trade(wdt_simulator, "M1")["push_count"] == 1


def test_unknown_merchant_code_is_refused_for_that_trade_only(client, wdt_simulator):
    trades = [trade("GOOD1"), trade("BAD1", [line("BAD1-1", "NOT-IN-WDT")]), trade("GOOD2")]
    results = client.push_trades("mall01", trades, strict=True)
    assert results["GOOD1"] is None and results["GOOD2"] is None
    assert results["BAD1"].code == "unknown_merchant_code" and "NOT-IN-WDT" in results["BAD1"].params["detail"]
    assert sim_trade(wdt_simulator, "BAD1") is None
    assert sim_trade(wdt_simulator, "GOOD1")["push_count"] == sim_trade(wdt_simulator, "GOOD2")["push_count"] == 1
    wdt_simulator.add_goods(["NOT-IN-WDT"])  # the clerk adds the code in WDT; the re-push goes through
    assert client.push_trades("mall01", trades[1:2]) == {"BAD1": None}


def test_batch_over_the_limit_is_refused_by_wdt(client, edition):
    limit = BATCH_LIMITS[edition].trades
    with pytest.raises(WdtPermanentError) as caught:
        client.wire.push_trades("mall01", [trade(f"T{n}") for n in range(limit + 1)], True)
    assert caught.value.code == "batch_too_large"


def test_shop_of_another_platform_is_refused(client):
    with pytest.raises(WdtPermanentError) as caught:
        client.push_trades("tmall01", [trade("M1")])
    assert caught.value.code == "shop_not_own_platform" and caught.value.field == "shop_no"


# --- shipping back ---


def test_ship_and_partial_ship_are_pulled_acked_and_gone(client, wdt_simulator):
    client.push_trades("mall01", [trade("M1"), trade("M2")])
    for _ in range(3):
        wdt_simulator.advance("M1")  # 递交 → 打印 → 出库
    whole = wdt_simulator.ship("M1", "ZTO", "ZT0001")
    part = wdt_simulator.ship("M2", "SF", "SF0001", oids=["M2-2"])
    records = {record.rec_id: record for record in client.query_logistics_sync("mall01")}
    assert set(records) == {whole["rec_id"], part["rec_id"]}
    first, second = records[whole["rec_id"]], records[part["rec_id"]]
    assert (first.tid, first.logistics_no, first.logistics_code, first.is_part_sync, first.oids) == (
        "M1",
        "ZT0001",
        "ZTO",
        False,
        [],
    )
    assert (second.tid, second.logistics_code, second.is_part_sync, second.oids) == ("M2", "SF", True, ["M2-2"])
    assert first.consign_time is not None and isinstance(first.rec_id, str)
    assert sim_trade(wdt_simulator, "M2")["stage"] == "部分发货"

    assert client.query_logistics_sync("mall01") != []  # offered again until acknowledged
    acks = [LogisticsAck(first.rec_id, True, "同步成功"), LogisticsAck(second.rec_id, False, "商城拒绝")]
    assert client.ack_logistics_sync(acks) == {first.rec_id: None, second.rec_id: None}
    assert client.query_logistics_sync("mall01") == []
    sync = {record["rec_id"]: record for record in wdt_simulator.state()["sync"]}
    assert sync[first.rec_id]["status"] == "synced" and sync[second.rec_id]["message"] == "商城拒绝"


def test_ack_of_a_record_not_pending_is_an_error(client, wdt_simulator):
    client.push_trades("mall01", [trade("M1")])
    rec_id = wdt_simulator.ship("M1", "YTO", "YT1")["rec_id"]
    assert client.ack_logistics_sync([LogisticsAck(rec_id, True, "同步成功")]) == {rec_id: None}
    again = client.ack_logistics_sync([LogisticsAck(rec_id, True, "同步成功")])
    assert "非待同步状态" in again[rec_id]


def test_reoffered_record_comes_back(client, wdt_simulator):
    client.push_trades("mall01", [trade("M1")])
    rec_id = wdt_simulator.ship("M1", "YTO", "YT1")["rec_id"]
    client.ack_logistics_sync([LogisticsAck(rec_id, True, "同步成功")])
    wdt_simulator.reoffer(rec_id)  # as if our ack was lost
    assert [record.rec_id for record in client.query_logistics_sync("mall01")] == [rec_id]


# --- goods and refunds ---


def test_goods_push(client, wdt_simulator, edition):
    lines = [goods_line(n, goods_id="G1", price=Decimal("66.6")) for n in range(1, 4)]
    assert client.push_goods("mall01", lines) == {("G1", f"S{n}"): None for n in range(1, 4)}
    assert client.push_goods("mall01", lines[:1]) == {("G1", "S1"): None}
    stored = wdt_simulator.state()["platform_goods"]
    assert len(stored) == 3 and Decimal(stored[0]["price"]) == Decimal("66.6")
    bad = goods_line(9, goods_id="G" * 41)
    results = client.push_goods("mall01", [lines[0], bad])
    assert results[("G1", "S1")] is None
    assert results[("G" * 41, "S9")].code == "field_refused" and "goods_id" in results[("G" * 41, "S9")].wdt_message


def test_refund_needs_its_trade_in_wdt(client, wdt_simulator):
    client.push_trades("mall01", [trade("M1")])
    moment = datetime.now(UTC)
    refunds = [
        RawRefund("M1-R1", "M1", 2, 2, Decimal("66.1"), "买家小王", moment, "不想要了", [("M1-1", 1)]),
        RawRefund("X-R1", "NOT-PUSHED", 2, 2, Decimal(1), "买家小王", moment, "不想要了", [("X-1", 1)]),
    ]
    results = client.push_refunds("mall01", refunds)
    assert results["M1-R1"] is None and "不存在" in results["X-R1"]
    [stored] = wdt_simulator.state()["refunds"]
    assert stored["tid"] == "M1" and Decimal(stored["refund_fee"]) == Decimal("66.1")
    assert [(item["oid"], Decimal(item["num"])) for item in stored["lines"]] == [("M1-1", 1)]


# --- test connection ---


def test_check_connection_is_green_with_the_demo_account(client):
    report = client.check_connection("mall01", "wh01")
    assert report.ok, report
    assert {"ZTO", "YTO", "SF", "YD", "STO", "EMS", "JD", "JT"} <= {company.code for company in report.logistics}


def test_wrong_secret_is_red_on_the_credentials_only(wdt_simulator, edition):
    with connect(wdt_simulator, edition, appsecret="wrongsecret:demosalt") as client:
        report = client.check_connection("mall01", "wh01")
    assert not report.ok and not report.credentials.ok
    assert report.credentials.code == "auth_failed" and "wrongsecret" not in render(
        report.credentials.code, report.credentials.params
    )


def test_wrong_sid_is_named(wdt_simulator, edition):
    with connect(wdt_simulator, edition, sid="nosuchsid") as client, pytest.raises(WdtPermanentError) as caught:
        client.list_logistics()
    assert caught.value.code == "unknown_sid" and caught.value.field == "sid"


def test_unknown_shop_and_warehouse_are_named(client):
    report = client.check_connection("mall99", "wh99")
    assert report.credentials.ok
    assert not report.shop.ok and "mall99" in render(report.shop.code, report.shop.params)
    assert not report.warehouse.ok and "wh99" in render(report.warehouse.code, report.warehouse.params)


def test_shop_of_another_platform_fails_the_check(client):
    report = client.check_connection("tmall01", "wh02")
    assert not report.shop.ok and "自有平台" in render(report.shop.code, report.shop.params) and report.warehouse.ok


def test_simulator_down_is_a_transient_network_error(wdt_simulator, edition):
    with connect(wdt_simulator, edition, root_url=f"http://127.0.0.1:{free_port()}") as client:
        report = client.check_connection("mall01", "wh01")
        with pytest.raises(WdtTransientError) as caught:
            client.push_trades("mall01", [trade("M1")])
    assert not report.credentials.ok and "无法连接旺店通" in render(report.credentials.code, report.credentials.params)
    assert caught.value.code == "network"


# --- faults ---


def test_timeout_is_transient_and_nothing_lands(wdt_simulator, edition):
    wdt_simulator.set_faults(timeout_sleep_s=1.0)
    wdt_simulator.fail_next("timeout", 1)
    with connect(wdt_simulator, edition, read_timeout=0.3) as client, pytest.raises(WdtTransientError) as caught:
        client.push_trades("mall01", [trade("M1")])
    assert caught.value.code == "timeout"


@pytest.mark.parametrize(("kind", "code"), [("5xx", "http_5xx"), ("bad_json", "bad_response")])
def test_injected_failures_are_transient_and_the_retry_succeeds(client, wdt_simulator, kind, code):
    wdt_simulator.fail_next(kind, 1)
    with pytest.raises(WdtTransientError) as caught:
        client.push_trades("mall01", [trade("M1")])
    assert caught.value.code == code
    assert client.push_trades("mall01", [trade("M1")]) == {"M1": None}
    assert sim_trade(wdt_simulator, "M1")["push_count"] == 1


def test_clock_off_by_more_than_the_window_is_clock_skew(wdt_simulator, edition):
    with (
        connect(wdt_simulator, edition, clock=lambda: time.time() - 600) as client,
        pytest.raises(WdtTransientError) as caught,
    ):
        client.list_logistics()
    assert caught.value.code == "clock_skew"


# --- what WDT refuses, per trade ---


def test_a_trade_breaking_a_field_rule_is_refused_alone(client, wdt_simulator):
    trades = [trade("GOOD1"), trade("BAD1", receiver_mobile=""), trade("GOOD2")]
    results = client.push_trades("mall01", trades)
    assert results["GOOD1"] is None and results["GOOD2"] is None
    assert results["BAD1"].code == "field_refused" and "receiver_mobile" in results["BAD1"].wdt_message
    assert sim_trade(wdt_simulator, "BAD1") is None and sim_trade(wdt_simulator, "GOOD2") is not None


def test_a_shared_oid_is_taken_but_fails_at_submit(client, wdt_simulator):
    results = client.push_trades("mall01", [trade("M1", [line("SAME-1")]), trade("M2", [line("SAME-1")])])
    assert results == {"M1": None, "M2": None}  # WDT says nothing at push time
    [violation] = wdt_simulator.violations("r-oid-unique")
    assert violation["tid"] == "M2"
    with pytest.raises(requests.HTTPError, match="409"):
        wdt_simulator.advance("M2")
    assert "订单货品数量不一致" in sim_trade(wdt_simulator, "M2")["bad_reason"]


# --- truth before abnormal ---


@pytest.mark.parametrize("kind", ["5xx_after_store", "timeout_after_store"])
def test_a_lost_answer_is_checked_with_wdt_ultimate(wdt_simulator, kind):
    wdt_simulator.set_faults(timeout_sleep_s=1.0)
    wdt_simulator.fail_next(kind, 1)
    with connect(wdt_simulator, "ultimate", read_timeout=0.3) as client:
        with pytest.raises(WdtTransientError):
            client.push_trades("mall01", [trade("M1")])
        assert client.find_raw_trades("mall01", ["M1", "M9"]) == {"M1": True, "M9": False}


def test_enterprise_cannot_check_a_lost_answer_by_default(wdt_simulator):
    with connect(wdt_simulator, "enterprise") as client, pytest.raises(WdtPermanentError) as caught:
        client.find_raw_trades("mall01", ["M1"])
    assert caught.value.code == "query_unsupported"


# --- stock back ---


def test_stock_changes_round_trip(client, wdt_simulator):
    client.push_goods("mall01", [goods_line(1), goods_line(2, spec_no="NOT-IN-WDT")])
    changes = client.query_stock_changes("mall01", 100)
    assert [(c.goods_id, c.spec_id, c.spec_no, c.quantity, c.change_count) for c in changes] == [
        ("G1", "S1", "DEMO-0001", Decimal(100), 1)
    ]  # the unknown code stays unmatched: no stock for it
    [first] = changes
    wdt_simulator.set_stock("DEMO-0001", delta=-3)  # 出库 in WDT
    assert client.ack_stock_changes([StockAck(first.rec_id, first.quantity, first.change_count, True)]) == {
        first.rec_id: None
    }
    [again] = client.query_stock_changes("mall01", 100)  # the ack was stale: the row comes back, count higher
    assert (again.rec_id, again.quantity, again.change_count) == (first.rec_id, Decimal(97), 2)
    failed = client.ack_stock_changes([StockAck(again.rec_id, again.quantity, again.change_count, False, "下架")])
    assert failed == {again.rec_id: None}
    assert [change.rec_id for change in client.query_stock_changes("mall01", 100)] == [again.rec_id]
    client.ack_stock_changes([StockAck(again.rec_id, again.quantity, again.change_count, True)])
    assert client.query_stock_changes("mall01", 100) == []


# --- pacing ---


def test_before_call_hears_every_call_over_http(wdt_simulator, edition):
    names = []
    with connect(wdt_simulator, edition, before_call=names.append) as client:
        client.push_trades("mall01", [trade("M1")])
        client.query_logistics_sync("mall01")
    assert len(names) == 2 and names[0] in ("trade_push", "sales.RawTrade.pushSelf2")


def test_600_orders_within_a_quota_of_60_calls_a_minute(wdt_simulator, edition):
    wdt_simulator.set_quota(60)
    trades = [trade(f"Q{n:03d}", [line(f"Q{n:03d}-1")], buyer_nick=f"买家{n}") for n in range(600)]
    with connect(wdt_simulator, edition) as client:
        results = client.push_trades("mall01", trades)
    assert len(results) == 600 and all(error is None for error in results.values())
    assert len(wdt_simulator.state()["trades"]) == 600 and wdt_simulator.violations("r-quota") == []


def test_rate_limit_answers_are_waited_out_and_nothing_is_lost(wdt_simulator, edition):
    wdt_simulator.set_quota(2)
    waits = []

    def minute_passes(seconds: float) -> None:
        waits.append(seconds)
        wdt_simulator.set_quota(2)  # a new window, as if the minute went by

    with connect(wdt_simulator, edition, sleep=minute_passes) as client:
        results = [client.push_trades("mall01", [trade(f"R{n}")]) for n in range(5)]
    assert all(result == {f"R{n}": None} for n, result in enumerate(results))
    assert len(wdt_simulator.state()["trades"]) == 5 and waits
    assert wdt_simulator.violations("r-quota")
