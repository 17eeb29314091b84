"""Asking WDT: does it hold a raw trade, which stock changed, and acknowledging stock changes (both editions)."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from tests.wdt_samples import URLS
from wdtpanel.simulator.goods import NO_STOCK_RULE
from wdtpanel.wdt import (
    EDITION_ENTERPRISE,
    EDITION_ULTIMATE,
    StockAck,
    WdtAccount,
    WdtClient,
    WdtPermanentError,
    WdtTransientError,
    WdtUnsupported,
    editions,
)


def client(edition: str) -> WdtClient:
    return WdtClient(WdtAccount(edition, URLS[edition], "sid01", "key01", "secret:salt"), sleep=lambda seconds: None)


def form_of(call) -> dict:
    return dict(parse_qsl(call.request.body))


def method_of(call) -> str:
    return dict(parse_qsl(urlsplit(call.request.url).query))["method"]


def args_of(call) -> list:
    return json.loads(call.request.body)


def by_method(answers: dict[str, object]):
    """An ultimate gateway answering each method with its entry (a dict, or a callable of the arguments)."""

    def answer(request):
        method = dict(parse_qsl(urlsplit(request.url).query))["method"]
        reply = answers[method]
        return 200, {}, json.dumps(reply(json.loads(request.body)) if callable(reply) else reply)

    return answer


# --- raw trades ---


def test_ultimate_asks_for_each_tid_and_reads_the_shop(wdt):
    held = {"T1": "mall01", "T3": "other"}

    def search(args):
        [params] = args
        rows = (
            [{"tid": params["tid"], "shop_no": held[params["tid"]], "process_status": 10}]
            if params["tid"] in held
            else []
        )
        return {"status": 0, "data": {"total_count": len(rows), "order": rows}}

    wdt.add_callback(
        responses.POST, URLS[EDITION_ULTIMATE], callback=by_method({"sales.RawTrade.searchSelfOrder": search})
    )
    with client(EDITION_ULTIMATE) as ultimate:
        assert ultimate.find_raw_trades("mall01", ["T1", "T2", "T3", "T1"]) == {"T1": True, "T2": False, "T3": False}
    assert [args_of(call) for call in wdt.calls] == [[{"tid": tid, "shop_no": "mall01"}] for tid in ("T1", "T2", "T3")]
    query = dict(parse_qsl(urlsplit(wdt.calls[0].request.url).query))
    assert query["page_no"] == "0" and int(query["page_size"]) > 0


def test_enterprise_raw_trade_query_is_unsupported_by_default(wdt):
    with client(EDITION_ENTERPRISE) as enterprise, pytest.raises(WdtUnsupported) as caught:
        enterprise.find_raw_trades("mall01", ["T1"])
    assert isinstance(caught.value, WdtPermanentError) and caught.value.code == "query_unsupported"
    assert not wdt.calls


def test_enterprise_raw_trade_query_when_the_add_on_is_switched_on(wdt, monkeypatch):
    monkeypatch.setattr(editions, "ENTERPRISE_RAW_TRADE_QUERY", True)
    wdt.post(
        URLS[EDITION_ENTERPRISE] + "vip_api_trade_query.php",
        json={"code": 0, "total_count": 1, "trade_list": [{"tid": "T2", "shop_no": "mall01", "process_status": 10}]},
    )
    with client(EDITION_ENTERPRISE) as enterprise:
        assert enterprise.find_raw_trades("mall01", ["T1", "T2"]) == {"T1": False, "T2": True}
    form = form_of(wdt.calls[0])
    assert form["tid"] == "T1,T2" and form["shop_no"] == "mall01"


# --- stock changes ---

ENTERPRISE_ROW = {
    "rec_id": "2001",
    "shop_id": 1,
    "shop_no": "mall01",
    "platform_id": 127,
    "goods_id": "G1",
    "spec_id": "S1",
    "goods_no": "GNO-1",
    "spec_no": "DEMO-0001",
    "sync_stock": 97,
    "stock_change_count": 3,
}


@pytest.mark.parametrize(("asked", "sent"), [(10, "100"), (500, "500"), (9000, "2000")])
def test_enterprise_stock_changes_are_read_with_a_limit_in_range(wdt, asked, sent):
    wdt.post(
        URLS[EDITION_ENTERPRISE] + "api_goods_stock_change_query.php",
        json={"code": 0, "current_count": 1, "stock_change_list": [ENTERPRISE_ROW]},
    )
    with client(EDITION_ENTERPRISE) as enterprise:
        [change] = enterprise.query_stock_changes("mall01", asked)
    assert (change.rec_id, change.goods_id, change.spec_id, change.spec_no) == ("2001", "G1", "S1", "DEMO-0001")
    assert change.quantity == Decimal(97) and change.change_count == 3 and change.raw == ENTERPRISE_ROW
    assert form_of(wdt.calls[0])["limit"] == sent and form_of(wdt.calls[0])["shop_no"] == "mall01"


def test_enterprise_acks_only_what_the_mall_applied(wdt):
    wdt.post(
        URLS[EDITION_ENTERPRISE] + "api_goods_stock_change_ack.php",
        json={"code": 0, "errors": [{"rec_id": "2003", "error": "记录不存在"}]},
    )
    acks = [
        StockAck("2001", Decimal(97), 3, True),
        StockAck("2002", Decimal(5), 1, False, "商城无此规格"),
        StockAck("2003", Decimal(1), 1, True),
    ]
    with client(EDITION_ENTERPRISE) as enterprise:
        assert enterprise.ack_stock_changes(acks) == {"2001": None, "2002": None, "2003": "记录不存在"}
    sent = json.loads(form_of(wdt.calls[0])["stock_sync_list"])
    assert sent == [
        {"rec_id": "2001", "sync_stock": 97, "stock_change_count": 3},
        {"rec_id": "2003", "sync_stock": 1, "stock_change_count": 1},
    ]


def test_enterprise_sends_no_ack_when_nothing_was_applied(wdt):
    with client(EDITION_ENTERPRISE) as enterprise:
        assert enterprise.ack_stock_changes([StockAck("2002", Decimal(5), 1, False, "x")]) == {"2002": None}
    assert not wdt.calls


def calc_row(rec_id: int, shop_id: int = 1, count: int = 4) -> dict:
    return {
        "rec_id": rec_id,
        "shop_id": shop_id,
        "goods_id": f"G{rec_id}",
        "spec_id": f"S{rec_id}",
        "outer_id": "GNO",
        "spec_outer_id": f"DEMO-{rec_id}",
        "syn_stock": 42,
        "stock_change_count": count,
        **NO_STOCK_RULE,
        "platform_id": 127,
    }


SHOP = {"status": 0, "data": {"total_count": 1, "details": [{"shop_no": "mall01", "shop_id": 1, "platform_id": 127}]}}


def stock_sync_answers(id_list: list, calculated: dict) -> dict:
    """WDT's answers to a stock sync round: the wait list, the shop, and batchCalcStock's `calculated` data."""
    return {
        "sales.StockSync.getSelfWaitSyncIdListOpen": {"status": 0, "data": {"id_list": id_list, "position": 99}},
        "setting.Shop.queryShop": SHOP,
        "sales.StockSync.batchCalcStock": {"status": 0, "data": calculated},
    }


def test_ultimate_stock_changes_hide_the_wait_list_and_the_calculation(wdt):
    calculated = {
        "success_date": [calc_row(7), calc_row(8, shop_id=2)],
        "error_date": [{"rec_id": 9, "err_msg": "停用"}],
    }
    wdt.add_callback(
        responses.POST, URLS[EDITION_ULTIMATE], callback=by_method(stock_sync_answers([7, 8, 9], calculated))
    )
    with client(EDITION_ULTIMATE) as ultimate:
        [change] = ultimate.query_stock_changes("mall01", 3)
    assert (change.rec_id, change.goods_id, change.spec_id, change.spec_no) == ("7", "G7", "S7", "DEMO-7")
    assert change.quantity == Decimal(42) and change.change_count == 4
    assert args_of(wdt.calls[0]) == [10, 0]  # the doc's least count
    calc = next(call for call in wdt.calls if method_of(call) == "sales.StockSync.batchCalcStock")
    assert args_of(calc) == [
        [
            {"api_goods_id": 7, "force_sync": False},
            {"api_goods_id": 8, "force_sync": False},
            {"api_goods_id": 9, "force_sync": False},
        ]
    ]


def test_ultimate_stock_ids_that_are_no_whole_number_are_left_out_and_the_rest_goes_on(wdt, caplog):
    """Nonsense in WDT's wait list (an id int() does not read, or reads wrongly) must not stop the round for the
    other ids; rows that are no row, or answer an id not asked, are not taken either."""
    biggest = str(2**63 - 1)
    answers = stock_sync_answers(
        ["7x", "007", None, True, 1.5, -3, "9" * 30, str(2**63), 8, biggest],
        {
            "success_date": [
                None,
                "7",
                calc_row(7),
                {**calc_row(8), "rec_id": "0008"},
                {**calc_row(8), "rec_id": "7x"},
                {**calc_row(9), "rec_id": biggest},
            ]
        },
    )
    answers["sales.StockSync.syncSuccess"] = {"status": 0}
    wdt.add_callback(responses.POST, URLS[EDITION_ULTIMATE], callback=by_method(answers))
    with client(EDITION_ULTIMATE) as ultimate:
        changes = ultimate.query_stock_changes("mall01", 10)
        assert [change.rec_id for change in changes] == ["7", "0008", biggest]  # as WDT spells them
        acks = [StockAck(rec_id, Decimal(1), 1, True) for rec_id in ("7x", "7", "0008")]
        results = ultimate.ack_stock_changes(acks)
    assert results["7"] is None and results["0008"] is None and "不存在" in results["7x"]
    calls = [args_of(call) for call in wdt.calls if method_of(call) == "sales.StockSync.batchCalcStock"]
    assert calls == [
        [[{"api_goods_id": number, "force_sync": False} for number in (7, 8, 2**63 - 1)]],
        [[{"api_goods_id": number, "force_sync": False} for number in (7, 8)]],
    ]
    successes = [args_of(call)[0] for call in wdt.calls if method_of(call) == "sales.StockSync.syncSuccess"]
    assert successes == [7, 8]
    assert "left out" in caplog.text and "7x" in caplog.text and "True" in caplog.text


@pytest.mark.parametrize("calculated", [{"success_date": {"7": calc_row(7)}}, {"success_date": "7"}, []])
@pytest.mark.parametrize("id_list", ["7", 7, {"7": 7}])
def test_ultimate_stock_answers_of_another_shape_give_no_change_and_no_error(wdt, id_list, calculated):
    """An id list that is no list is no ids (the string "17" is not ids 1 and 7); a calculation that is no list of
    rows is no rows."""
    wdt.add_callback(
        responses.POST, URLS[EDITION_ULTIMATE], callback=by_method(stock_sync_answers(id_list, calculated))
    )
    with client(EDITION_ULTIMATE) as ultimate:
        assert ultimate.query_stock_changes("mall01", 10) == []
        assert ultimate.wire.calculated_stock([7]) == {}


def test_ultimate_empty_wait_list_is_one_call(wdt):
    wdt.post(URLS[EDITION_ULTIMATE], json={"status": 0, "data": {"id_list": [], "position": 0}})
    with client(EDITION_ULTIMATE) as ultimate:
        assert ultimate.query_stock_changes("mall01", 100) == []
    assert len(wdt.calls) == 1


def test_ultimate_acks_are_sync_success_and_fail_with_the_strategy_values(wdt):
    wdt.add_callback(
        responses.POST,
        URLS[EDITION_ULTIMATE],
        callback=by_method(
            {
                "sales.StockSync.batchCalcStock": {"status": 0, "data": {"success_date": [calc_row(7), calc_row(8)]}},
                "sales.StockSync.syncSuccess": {"status": 0},
                "sales.StockSync.syncFail": {"status": 0},
            }
        ),
    )
    acks = [
        StockAck("7", Decimal(42), 4, True),
        StockAck("8", Decimal(42), 4, False, "商城下架"),
        StockAck("9", Decimal(1), 1, True),
    ]
    with client(EDITION_ULTIMATE) as ultimate:
        results = ultimate.ack_stock_changes(acks)
    assert results["7"] is None and results["8"] is None and "不存在" in results["9"]
    success = next(call for call in wdt.calls if method_of(call) == "sales.StockSync.syncSuccess")
    rec_id, info = args_of(success)
    assert rec_id == 7 and info["syn_stock"] == 42 and info["stock_change_count"] == 4
    assert info["stock_syn_rule_id"] == -10000 and info["is_auto_listing"] is False and "syn_result" not in info
    fail = next(call for call in wdt.calls if method_of(call) == "sales.StockSync.syncFail")
    assert args_of(fail)[1]["syn_result"] == "商城下架" and args_of(fail)[1]["is_syn_success"] is False


def test_ultimate_ack_refused_for_one_row_is_that_rows_text_and_transient_failures_are_raised(wdt):
    def success(args):
        return {"status": 100, "message": "单据不存在"} if args[0] == 8 else {"status": 0}

    answers = {
        "sales.StockSync.batchCalcStock": {"status": 0, "data": {"success_date": [calc_row(7), calc_row(8)]}},
        "sales.StockSync.syncSuccess": success,
    }
    wdt.add_callback(responses.POST, URLS[EDITION_ULTIMATE], callback=by_method(answers))
    acks = [StockAck("7", Decimal(42), 4, True), StockAck("8", Decimal(42), 4, True)]
    with client(EDITION_ULTIMATE) as ultimate:
        assert ultimate.ack_stock_changes(acks) == {"7": None, "8": "单据不存在"}
        answers["sales.StockSync.syncSuccess"] = {"status": 4, "message": "数据库错误"}
        with pytest.raises(WdtTransientError):
            ultimate.ack_stock_changes(acks)
