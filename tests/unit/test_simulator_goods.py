"""Platform goods, matching by 商家编码, stock per ERP spec and the stock-change queue in the simulator (both
editions), and its raw-trade queries."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.simulator_calls import DEMO, enterprise_call, push_raw, ultimate_call
from tests.wdt_samples import goods_line, raw_line, raw_trade
from wdtpanel.wdt.payloads import StockAck, enterprise_stock_ack, ultimate_stock_info
from wdtpanel.wdt.payloads import goods_line as wire_goods_line


def state(sim) -> dict:
    return sim.get("/_sim/state").get_json()


def rows(sim) -> dict[tuple[str, str], dict]:
    return {(row["goods_id"], row["spec_id"]): row for row in state(sim)["platform_goods"]}


def push_goods(sim, edition: str, lines: list[dict], platform_id: int = 127) -> dict:
    if edition == "enterprise":
        info = {"platform_id": platform_id, "shop_no": DEMO.shop_no, "goods_list": lines}
        return enterprise_call(sim, "api_goodsspec_push", {"api_goods_info": info})
    return ultimate_call(sim, "goods.ApiGoods.upload", [{"shop_no": DEMO.shop_no, "goods_list": lines}])


def waiting(sim, edition: str) -> list[dict]:
    """The stock changes WDT offers now, as (rec_id, goods_id, spec_id, stock, change_count) rows."""
    if edition == "enterprise":
        answer = enterprise_call(sim, "api_goods_stock_change_query", {"shop_no": DEMO.shop_no, "limit": "100"})
        return [
            {
                "rec_id": str(row["rec_id"]),
                "spec_id": row["spec_id"],
                "stock": row["sync_stock"],
                "count": row["stock_change_count"],
            }
            for row in answer["stock_change_list"]
        ]
    ids = ultimate_call(sim, "sales.StockSync.getSelfWaitSyncIdListOpen", [100, 0])["data"]["id_list"]
    if not ids:
        return []
    calc = ultimate_call(
        sim, "sales.StockSync.batchCalcStock", [[{"api_goods_id": i, "force_sync": False} for i in ids]]
    )
    return [
        {
            "rec_id": str(row["rec_id"]),
            "spec_id": row["spec_id"],
            "stock": row["syn_stock"],
            "count": row["stock_change_count"],
            "calc": row,
        }
        for row in calc["data"]["success_date"]
    ]


def ack(sim, edition: str, change: dict, count: int | None = None) -> dict:
    applied = StockAck(change["rec_id"], Decimal(change["stock"]), change["count"] if count is None else count, ok=True)
    if edition == "enterprise":
        return enterprise_call(sim, "api_goods_stock_change_ack", {"stock_sync_list": [enterprise_stock_ack(applied)]})
    info = ultimate_stock_info(applied, change["calc"])
    return ultimate_call(sim, "sales.StockSync.syncSuccess", [int(change["rec_id"]), info])


def test_matched_goods_wait_for_a_stock_sync_until_acknowledged(sim, edition):
    push_goods(sim, edition, [wire_goods_line(goods_line(1)), wire_goods_line(goods_line(2))])
    offered = waiting(sim, edition)
    assert [(row["spec_id"], row["stock"], row["count"]) for row in offered] == [("S1", 100, 1), ("S2", 100, 1)]
    assert waiting(sim, edition) == offered  # offered again until acknowledged
    ack(sim, edition, offered[0])
    assert [row["spec_id"] for row in waiting(sim, edition)] == ["S2"]


def test_a_stock_change_reuses_the_row_with_a_higher_count_and_a_stale_ack_leaves_it_waiting(sim, edition):
    push_goods(sim, edition, [wire_goods_line(goods_line(1))])
    [first] = waiting(sim, edition)
    assert sim.post("/_sim/stock", json={"spec_no": "DEMO-0001", "delta": -3}).get_json()["queued"] == [
        int(first["rec_id"])
    ]
    ack(sim, edition, first)  # the mall applied 100, but 97 is the stock now
    [again] = waiting(sim, edition)
    assert (again["rec_id"], again["stock"], again["count"]) == (first["rec_id"], 97, 2)
    sim.post("/_sim/stock", json={"spec_no": "DEMO-0001", "quantity": 40})  # 盘点
    [latest] = waiting(sim, edition)
    assert (latest["stock"], latest["count"]) == (40, 3)
    ack(sim, edition, latest)
    assert waiting(sim, edition) == []


def test_an_unknown_merchant_code_is_taken_and_stays_unmatched(sim, edition):
    answer = push_goods(sim, edition, [wire_goods_line(goods_line(1, spec_no="NOT-IN-WDT"))])
    assert answer["code" if edition == "enterprise" else "status"] == 0
    assert answer.get("errors", []) == []
    assert rows(sim)[("G1", "S1")]["match_code"] == "" and waiting(sim, edition) == []
    sim.post("/_sim/goods", json={"codes": ["NOT-IN-WDT"]})  # the code is created in WDT: matched, synced
    assert [row["spec_id"] for row in waiting(sim, edition)] == ["S1"]


def test_ultimate_calc_stock_of_an_unmatched_row_is_refused(sim):
    push_goods(sim, "ultimate", [wire_goods_line(goods_line(1, spec_no="NOT-IN-WDT"))])
    rec_id = rows(sim)[("G1", "S1")]["rec_id"]
    answer = ultimate_call(sim, "sales.StockSync.calcStock", [rec_id, False])
    assert answer["status"] == 100 and "已停用或者未开启同步" in answer["message"]


def test_enterprise_goods_need_the_own_platform(sim):
    answer = push_goods(sim, "enterprise", [wire_goods_line(goods_line(1))], platform_id=1)
    assert answer["code"] == 4304 and state(sim)["platform_goods"] == []


def test_enterprise_refuses_a_blank_spec_id_in_a_goods_with_several_specs_line_by_line(sim):
    lines = [wire_goods_line(goods_line(1, spec_id="")), wire_goods_line(goods_line(1, spec_id="S9"))]
    answer = push_goods(sim, "enterprise", lines)
    assert answer["code"] == 0 and answer["new_count"] == 1
    assert answer["errors"] == [{"goods_id": "G1", "spec_id": "", "error": "平台货品SPU下多个SKU，规格ID不能为空"}]


@pytest.mark.parametrize("field", ["goods_id", "spec_id", "spec_no"])
def test_goods_codes_are_at_most_40_characters(sim, edition, field):
    line = {**wire_goods_line(goods_line(1)), field: "X" * 41}
    answer = push_goods(sim, edition, [line, wire_goods_line(goods_line(2))])
    if edition == "enterprise":  # refused line by line
        assert answer["code"] == 0 and field in answer["errors"][0]["error"] and len(rows(sim)) == 1
    else:  # no line errors: the call is refused
        assert answer["status"] == 100 and field in answer["message"] and rows(sim) == {}


def test_stock_queries_take_the_documented_counts(sim):
    answer = enterprise_call(sim, "api_goods_stock_change_query", {"shop_no": DEMO.shop_no, "limit": "50"})
    assert answer["code"] != 0 and "limit" in answer["message"]
    answer = ultimate_call(sim, "sales.StockSync.getSelfWaitSyncIdListOpen", [5, 0])
    assert answer["status"] == 100 and "count" in answer["message"]


def test_ultimate_sync_success_needs_the_strategy_values(sim):
    push_goods(sim, "ultimate", [wire_goods_line(goods_line(1))])
    rec_id = rows(sim)[("G1", "S1")]["rec_id"]
    answer = ultimate_call(sim, "sales.StockSync.syncSuccess", [rec_id, {"syn_stock": 100, "stock_change_count": 1}])
    assert answer["status"] == 100 and "must not be null" in answer["message"]


def test_submit_makes_platform_goods_and_shipping_out_takes_stock(sim, edition):
    push_raw(sim, edition, raw_trade("T1", [raw_line("T1-1", num=2)]))
    sim.post("/_sim/trades/T1/advance")  # 递交
    row = rows(sim)[("G1", "S-T1-1")]
    assert row["match_code"] == "DEMO-0001" and row["sync_stock"] == 100
    sim.post("/_sim/trades/T1/advance")  # 打印
    sim.post("/_sim/trades/T1/advance")  # 出库
    assert state(sim)["stock"]["DEMO-0001"] == 98
    [change] = waiting(sim, edition)
    assert (change["stock"], change["count"]) == (98, 2)


def test_the_page_changes_stock(sim):
    assert "保存库存" in sim.get("/").get_data(as_text=True)
    answer = sim.post("/_sim/stock", data={"from": "page", "spec_no": "DEMO-0007", "delta": "-5", "quantity": ""})
    assert answer.status_code == 302 and state(sim)["stock"]["DEMO-0007"] == 95
    assert sim.post("/_sim/stock", json={"spec_no": "NOPE", "quantity": 1}).status_code == 404
    assert sim.post("/_sim/stock", json={"spec_no": "DEMO-0007"}).status_code == 400


# --- raw trades ---


def test_ultimate_raw_trade_search_by_tid_sees_trades_before_submit(sim):
    push_raw(sim, "ultimate", raw_trade("T1"))
    answer = ultimate_call(
        sim, "sales.RawTrade.searchSelfOrder", [{"tid": "T1", "shop_no": DEMO.shop_no}], page_size="10", page_no="0"
    )
    [row] = answer["data"]["order"]
    assert (row["tid"], row["process_status"], row["shop_no"]) == ("T1", 10, DEMO.shop_no)
    answer = ultimate_call(sim, "sales.RawTrade.searchSelfOrder", [{"tid": "T9"}], page_size="10", page_no="0")
    assert answer["data"]["order"] == []


def test_ultimate_raw_trade_search_needs_a_tid_or_a_window(sim):
    answer = ultimate_call(sim, "sales.RawTrade.searchSelfOrder", [{}], page_size="10", page_no="0")
    assert answer["status"] == 100 and answer["message"] == "参数中必须包含起止时间"
    wide = {"start_time": "2026-01-01 00:00:00", "end_time": "2026-03-01 00:00:00"}
    answer = ultimate_call(sim, "sales.RawTrade.searchSelfOrder", [wide], page_size="10", page_no="0")
    assert "不能大于30天" in answer["message"]


def test_enterprise_raw_trade_query_takes_tids(sim):
    push_raw(sim, "enterprise", raw_trade("T1"))
    answer = enterprise_call(sim, "vip_api_trade_query", {"tid": "T1,T2", "page_size": "100", "page_no": "0"})
    assert [row["tid"] for row in answer["trade_list"]] == ["T1"] and answer["trade_list"][0]["process_status"] == 10
