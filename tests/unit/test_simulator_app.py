"""The simulator's own rules, through Flask's test client: caller checks, hooks, the page, faults, the state file."""

from __future__ import annotations

import json
import time

import pytest

from tests.simulator_calls import DEMO, enterprise_call, push_enterprise, ultimate_call
from tests.wdt_samples import raw_line, raw_trade
from wdtpanel.simulator import SimulatorAccount, create_simulator_app
from wdtpanel.wdt.payloads import enterprise_trade, ultimate_trade

TRADE = enterprise_trade(raw_trade("T1"))


def push(sim, trade: dict | None = None) -> dict:
    return push_enterprise(sim, trade or TRADE)


def test_signed_enterprise_call_is_served(sim):
    assert push(sim) == {"code": 0, "message": "", "new_count": 1, "chg_count": 0}
    assert push(sim)["chg_count"] == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sid": "other"}, "sid不存在"),
        ({"shop_no": "mall02"}, "签名错误"),
        ({"unix_time": time.time() - 301}, "timestamp"),
    ],
)
def test_enterprise_caller_checks(sim, options, message):
    answer = enterprise_call(sim, "logistics", {"shop_no": "mall01"}, **options)
    assert answer["code"] != 0 and message in answer["message"]


def test_enterprise_wrong_secret_fails_the_signature(sim):
    assert enterprise_call(sim, "logistics", {}, appsecret="demosecret")["message"] == "签名错误"


def test_ultimate_caller_checks(sim):
    assert ultimate_call(sim, "setting.Logistics.queryLogistics", [{}], page_size="10", page_no="0")["status"] == 0
    assert (
        ultimate_call(sim, "setting.Logistics.queryLogistics", [{}], time.time() - 121, page_size="10", page_no="0")[
            "status"
        ]
        == 7
    )
    assert "分页" in ultimate_call(sim, "setting.Logistics.queryLogistics", [{}])["message"]
    assert ultimate_call(sim, "sales.RawTrade.pushSelf2", ["mall01"])["message"] == "invalid argument count"


def test_ultimate_checks_the_line_count_of_each_trade(sim):
    head, rows = ultimate_trade(raw_trade("T1"))
    answer = ultimate_call(sim, "sales.RawTrade.pushSelf2", [DEMO.shop_no, [{**head, "order_count": 2}], rows])
    assert answer["data"]["error_list"][0]["no"] == "T1" and "order_count" in answer["data"]["error_list"][0]["error"]


def test_enterprise_lenient_switch_lets_unknown_codes_in(sim):
    unknown = enterprise_trade(raw_trade("T1", [raw_line("T1-1", spec_no="NOPE")]))
    assert "NOPE" in push(sim, unknown)["message"]
    lenient = enterprise_call(sim, "trade_push", {"shop_no": DEMO.shop_no, "switch": "0", "trade_list": [unknown]})
    assert lenient["code"] == 0


def test_warehouse_flow_on_the_page(sim):
    push(sim)
    page = sim.get("/").get_data(as_text=True)
    assert "T1" in page and "已递交" in page  # the button to the next stage
    for _ in range(3):
        assert sim.post("/_sim/trades/T1/advance", data={"from": "page"}).status_code == 302
    assert "确认发货" in sim.get("/").get_data(as_text=True)
    answer = sim.post("/_sim/trades/T1/ship", data={"from": "page", "logistics_code": "JT", "logistics_no": "JT9"})
    assert answer.status_code == 302
    state = sim.get("/_sim/state").get_json()
    assert state["trades"][0]["stage"] == "已发货" and state["sync"][0]["logistics_name"] == "极兔速递"
    assert "JT9" in sim.get("/").get_data(as_text=True)


def test_hooks_refuse_what_cannot_be_done(sim):
    push(sim)
    assert sim.post("/_sim/trades/NOPE/advance").status_code == 404
    assert sim.post("/_sim/trades/T1/ship", json={"logistics_code": "XX", "logistics_no": "1"}).status_code == 400
    assert (
        sim.post(
            "/_sim/trades/T1/ship", json={"logistics_code": "SF", "logistics_no": "1", "oids": ["T1-9"]}
        ).status_code
        == 400
    )
    assert sim.post("/_sim/sync/999/reoffer").status_code == 404
    assert sim.post("/_sim/faults", json={"no_such_fault": 1}).status_code == 400
    assert sim.post("/_sim/faults/next", json={"kind": "meteor", "count": 1}).status_code == 400


def statuses(sim, calls: int) -> list[int]:
    return [sim.post("/openapi2/logistics.php", data={}).status_code for _ in range(calls)]


def test_seeded_faults_repeat_exactly(sim):
    sim.post("/_sim/faults", json={"error_5xx_rate": 0.5, "seed": 7})
    first = statuses(sim, 20)
    sim.post("/_sim/faults", json={"error_5xx_rate": 0.5, "seed": 7})
    assert statuses(sim, 20) == first and {200, 502} == set(first)


def test_fail_next_fails_exactly_that_many_calls(sim):
    sim.post("/_sim/faults/next", json={"kind": "5xx", "count": 2})
    assert statuses(sim, 3) == [502, 502, 200]
    sim.post("/_sim/faults/next", json={"kind": "rate_limit", "count": 1})
    assert "超过每分钟最大调用频率" in sim.post("/openapi2/logistics.php", data={}).get_json()["message"]


def test_reset_forgets_trades_and_faults(sim):
    push(sim)
    sim.post("/_sim/faults", json={"error_5xx_rate": 1.0})
    sim.post("/_sim/reset")
    assert sim.get("/_sim/state").get_json()["trades"] == []
    assert statuses(sim, 1) == [200]


def test_state_file_survives_a_restart(tmp_path):
    path = tmp_path / "sim.json"
    first = create_simulator_app(state_file=path).test_client()
    push(first)
    first.post("/_sim/goods", json={"codes": ["NEW-1"]})
    again = create_simulator_app(state_file=path).test_client()
    state = again.get("/_sim/state").get_json()
    assert state["trades"][0]["tid"] == "T1" and "NEW-1" in state["goods"]
    assert json.loads(path.read_text("utf-8"))["trades"]["mall01"]["T1"]["push_count"] == 1


def test_other_accounts_can_be_simulated():
    account = SimulatorAccount("sid2", "key2", "s2:salt2", "shopA", "whA")
    sim = create_simulator_app(account).test_client()
    state = sim.get("/_sim/state").get_json()
    assert {shop["shop_no"] for shop in state["shops"]} == {"shopA", "tmall01"}
    assert "s2:salt2" not in repr(account)


HOSTILE_ENTERPRISE = [
    ("trade_push", {"shop_no": DEMO.shop_no, "trade_list": [1, 2]}),
    ("trade_push", {"shop_no": DEMO.shop_no, "trade_list": []}),
    ("trade_push", {"shop_no": DEMO.shop_no, "trade_list": [{"tid": ["T1"], "order_list": [{"oid": {}}]}]}),
    ("api_goodsspec_push", {"api_goods_info": {"platform_id": 127, "shop_no": DEMO.shop_no, "goods_list": ["x"]}}),
    ("sales_refund_push", {"api_refund_list": [{"shop_no": DEMO.shop_no, "order_list": 5}]}),
    ("api_goods_stock_change_query", {"shop_no": DEMO.shop_no, "limit": "lots"}),
    ("api_goods_stock_change_ack", {"stock_sync_list": [{"rec_id": []}]}),
    ("logistics_sync_ack", {"logistics_list": [{"rec_id": 1, "status": 9}]}),
    ("vip_api_trade_query", {"tid": "", "start_time": "yesterday"}),
]
HOSTILE_ULTIMATE = [
    ("sales.RawTrade.pushSelf2", [["shop"], {"a": 1}, None]),
    ("sales.RawTrade.pushSelf2", [DEMO.shop_no, [{"tid": "T1"}], [3]]),
    ("goods.ApiGoods.upload", [{"shop_no": DEMO.shop_no, "goods_list": [None]}]),
    ("sales.LogisticsSync.update", [[{"sync_id": "x", "status": "?"}]]),
]


@pytest.mark.parametrize(("script", "params"), HOSTILE_ENTERPRISE)
def test_hostile_enterprise_calls_get_a_refusal_not_a_crash(sim, script, params):
    answer = enterprise_call(sim, script, params)
    assert answer["code"] != 0 and answer["message"]
    assert sim.get("/_sim/state").get_json()["trades"] == []


@pytest.mark.parametrize(("method", "args"), HOSTILE_ULTIMATE)
def test_hostile_ultimate_calls_get_a_refusal_not_a_crash(sim, method, args):
    answer = ultimate_call(sim, method, args)
    assert answer["status"] != 0 and answer["message"]
    assert sim.get("/_sim/state").get_json()["trades"] == []


def test_the_command_line_sets_the_quota(monkeypatch):
    from wdtpanel.simulator import __main__ as cli

    made = {}

    def fake_app(account, **options):
        made.update(options, account=account)
        return type("App", (), {"run": lambda self, *args, **kwargs: None})()

    monkeypatch.setattr(cli, "create_simulator_app", fake_app)
    cli.main(["--calls-per-minute", "60", "--shop-no", "shopX"])
    assert made["calls_per_minute"] == 60 and made["account"].shop_no == "shopX"
    quota = create_simulator_app(calls_per_minute=60).test_client().get("/_sim/quota").get_json()
    assert quota["calls_per_minute"] == 60
