"""商品同步 against the simulator over HTTP, both editions: goods the mall posts reach WDT's platform goods with their
codes; problems show on the goods page; a corrected code re-pushes the orders it fixes in one action."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.helpers import CATALOGUE, connect_to_simulator, goods_batch, order_payload, run_worker
from wdtpanel.extensions import db
from wdtpanel.jobs import sweep_goods_pushes
from wdtpanel.models import AuditEntry, Order, Spec, WdtConfig
from wdtpanel.wdt import WdtClient

NOW = datetime.now(UTC)


@pytest.fixture(params=["enterprise", "ultimate"])
def edition(request):
    return request.param


@pytest.fixture
def shop(mall_api, wdt_simulator, edition):
    """Connected to the simulator (switched on five minutes ago), with the catalogue posted and pushed."""
    connect_to_simulator(mall_api.merchant, wdt_simulator, edition=edition)
    config = db.session.scalar(select(WdtConfig).where(WdtConfig.merchant_id == mall_api.merchant.id))
    config.enabled_at = NOW - timedelta(minutes=5)
    db.session.commit()
    assert mall_api.post("/api/v1/goods", goods_batch(*CATALOGUE)).status_code == 200
    run_worker()
    return mall_api


def platform_goods(simulator) -> dict[tuple[str, str], dict]:
    return {(row["goods_id"], row["spec_id"]): row for row in simulator.state()["platform_goods"]}


def specs(merchant_id) -> dict[str, Spec]:
    db.session.expire_all()
    return {
        f"{spec.goods.mall_goods_id}/{spec.mall_spec_id}": spec
        for spec in db.session.scalars(select(Spec).where(Spec.merchant_id == merchant_id))
    }


def page(client, path="/goods/") -> str:
    return client.get(path).get_data(as_text=True)


def test_goods_posted_by_the_mall_appear_in_platform_goods_with_their_codes(shop, wdt_simulator):
    rows = platform_goods(wdt_simulator)
    assert {key: row["spec_no"] for key, row in rows.items()} == {
        ("G1", "S1"): "DEMO-0001",
        ("G1", "S2"): "DEMO-0002",
        ("G2", "G2"): "DEMO-0003",
        ("G4", "G4"): "NEW-0001",
        ("G5", "G5"): "demo-0001",
    }  # a single-spec goods goes with its goods id as spec id, as its order lines do
    assert rows[("G1", "S1")]["match_code"] == "DEMO-0001" and rows[("G4", "G4")]["match_code"] == ""  # WDT's match
    assert rows[("G2", "G2")]["goods_name"] == "龙井茶叶" and rows[("G1", "S2")]["spec_name"] == "蓝色"
    assert wdt_simulator.violations() == []
    stored = specs(shop.merchant.id)
    assert {key: spec.push_state for key, spec in stored.items()} == {
        "G1/S1": "pushed",
        "G1/S2": "pushed",
        "G2/": "pushed",
        "G3/S31": "failed",
        "G4/": "pushed",
        "G5/": "pushed",
    }
    assert stored["G3/S31"].push_reason == "missing_merchant_code" and stored["G1/S1"].pushed_at is not None


def test_only_what_changed_is_pushed_again(shop, wdt_simulator):
    before = {key: row["price"] for key, row in platform_goods(wdt_simulator).items()}
    pushed_at = {key: spec.pushed_at for key, spec in specs(shop.merchant.id).items()}
    changed = json.loads(json.dumps(CATALOGUE))
    changed[0]["specs"][1]["price"] = "59.00"  # G1/S2 only
    changed[2]["specs"][0]["merchant_code"] = "DEMO-0031"  # G3/S31 gets its code
    assert shop.post("/api/v1/goods", goods_batch(*changed, minutes=1)).status_code == 200
    run_worker()
    after = specs(shop.merchant.id)
    assert [key for key, spec in after.items() if spec.pushed_at != pushed_at[key]] == ["G1/S2", "G3/S31"]
    rows = platform_goods(wdt_simulator)
    assert rows[("G1", "S2")]["price"] == "59.0000" and rows[("G1", "S1")]["price"] == before[("G1", "S1")]
    assert rows[("G3", "S31")]["spec_no"] == "DEMO-0031" and after["G3/S31"].push_state == "pushed"


def test_goods_switched_off_shelf_are_pushed_as_off_shelf(shop, wdt_simulator):
    assert shop.post("/api/v1/goods", goods_batch({**CATALOGUE[1], "on_shelf": False}, minutes=1)).status_code == 200
    run_worker()
    assert platform_goods(wdt_simulator)[("G2", "G2")]["status"] == 2  # 下架


def test_wdt_down_leaves_the_specs_pending_and_the_sweeper_pushes_them(shop, wdt_simulator):
    wdt_simulator.fail_next("5xx", 20)
    assert shop.post("/api/v1/goods", goods_batch({**CATALOGUE[1], "name": "西湖龙井"}, minutes=1)).status_code == 200
    run_worker()
    waiting = specs(shop.merchant.id)["G2/"]
    assert waiting.push_state == "pending" and waiting.push_reason == "http_5xx"
    wdt_simulator.set_faults()  # WDT is back
    assert sweep_goods_pushes() == 1
    run_worker()
    assert specs(shop.merchant.id)["G2/"].push_state == "pushed"
    assert platform_goods(wdt_simulator)[("G2", "G2")]["goods_name"] == "西湖龙井"


def test_a_change_arriving_during_the_push_is_pushed_too(shop, wdt_simulator, monkeypatch):
    renamed = {**CATALOGUE[1], "name": "明前龙井"}
    original = WdtClient.push_goods

    def push_while_the_mall_renames(self, shop_no, lines):
        answer = original(self, shop_no, lines)
        monkeypatch.setattr(WdtClient, "push_goods", original)
        assert shop.post("/api/v1/goods", goods_batch(renamed, minutes=2)).status_code == 200  # meanwhile
        return answer

    monkeypatch.setattr(WdtClient, "push_goods", push_while_the_mall_renames)
    assert shop.post("/api/v1/goods", goods_batch({**CATALOGUE[1], "name": "西湖龙井"}, minutes=1)).status_code == 200
    run_worker()
    assert specs(shop.merchant.id)["G2/"].push_state == "pushed"
    assert platform_goods(wdt_simulator)[("G2", "G2")]["goods_name"] == "明前龙井"


def test_a_change_reverted_during_its_push_is_pushed_back(shop, wdt_simulator, monkeypatch):
    """The mall renames, the push of the new name is under way, the mall renames back: WDT must end with the
    original name, though the reverted line equals the one pushed before."""
    original = WdtClient.push_goods

    def push_while_the_mall_reverts(self, shop_no, lines):
        answer = original(self, shop_no, lines)
        monkeypatch.setattr(WdtClient, "push_goods", original)
        assert shop.post("/api/v1/goods", goods_batch(CATALOGUE[1], minutes=2)).status_code == 200  # meanwhile
        return answer

    monkeypatch.setattr(WdtClient, "push_goods", push_while_the_mall_reverts)
    assert shop.post("/api/v1/goods", goods_batch({**CATALOGUE[1], "name": "西湖龙井"}, minutes=1)).status_code == 200
    run_worker()
    assert specs(shop.merchant.id)["G2/"].push_state == "pushed"
    assert platform_goods(wdt_simulator)[("G2", "G2")]["goods_name"] == CATALOGUE[1]["name"]


def abnormal_order(shop, order_no: str, goods_id: str, spec_id: str, code: str | None) -> Order:
    stamp = NOW.isoformat()
    payload = order_payload(order_no, created_at=stamp, paid_at=stamp, updated_at=stamp)
    payload["lines"] = [
        dict(payload["lines"][0], goods_id=goods_id, spec_id=spec_id, merchant_code=code, quantity=1, price="10.00")
    ]
    payload["amounts"] = {"post": "0", "discount": "0", "paid": "10.00"}
    assert shop.post("/api/v1/orders", payload).status_code == 201
    run_worker()
    db.session.expire_all()
    order = db.session.scalar(select(Order).where(Order.order_no == order_no))
    assert order.sync_state == "abnormal"
    return order


def test_unknown_missing_and_duplicate_codes_show_on_the_goods_page(shop, signed_in):
    abnormal_order(shop, "U1", "G4", "", "NEW-0001")
    staff = signed_in(shop.merchant.code, "staff")
    html = page(staff)
    counts = dict(re.findall(r'data-problem="(\w+)".*?<(?:strong|span class="n")>(\d+)<', html, re.S))
    assert counts == {"all": "6", "missing": "1", "unknown": "1", "duplicate": "2", "failed": "0"}
    unknown = page(staff, "/goods/?problem=unknown")
    assert "编码在旺店通不存在" in unknown and "NEW-0001" in unknown
    duplicates = page(staff, "/goods/?problem=duplicate")
    assert "DEMO-0001" in duplicates and "demo-0001" in duplicates and "DEMO-0002" not in duplicates  # any case
    missing = page(staff, "/goods/?problem=missing")
    assert "帆布袋" in missing and "保温杯" not in missing


def test_a_corrected_code_repushes_the_orders_it_fixes_in_one_action(shop, wdt_simulator, signed_in):
    abnormal_order(shop, "U1", "G4", "", "NEW-0001")  # WDT does not know the code
    abnormal_order(shop, "U2", "G3", "S31", None)  # no code at all
    abnormal_order(shop, "U3", "G9", "", "NEW-0009")  # a goods the mall never corrects
    staff = signed_in(shop.merchant.code, "staff")
    assert "重推受影响订单" not in page(staff)
    corrected = [
        {**CATALOGUE[3], "merchant_code": "DEMO-0005"},
        {**CATALOGUE[2], "specs": [{**CATALOGUE[2]["specs"][0], "merchant_code": "DEMO-0031"}]},
    ]
    assert shop.post("/api/v1/goods", goods_batch(*corrected, minutes=1)).status_code == 200
    run_worker()  # the corrected goods go to WDT
    html = page(staff)
    section = html[html.index('id="fixed-orders"') : html.index('id="repush-progress"')]
    assert re.findall(r'class="order-no">(\w+)<', section) == ["U2", "U1"]  # newest first; U3 is not fixed
    assert "NEW-0001" in section and "DEMO-0005" in section and "DEMO-0031" in section
    answer = staff.post("/goods/fixed-orders/repush", headers={"X-CSRFToken": staff.csrf, "HX-Request": "true"})
    assert answer.status_code == 200 and "0 / 2" in answer.get_data(as_text=True)
    run_worker()
    db.session.expire_all()
    states = dict(db.session.execute(select(Order.order_no, Order.sync_state)).all())
    assert states == {"U1": "pushed", "U2": "pushed", "U3": "abnormal"}
    trades = {trade["tid"]: trade for trade in wdt_simulator.state()["trades"]}
    assert [line["spec_no"] for line in trades["U1"]["lines"]] == ["DEMO-0005"]
    assert [line["spec_no"] for line in trades["U2"]["lines"]] == ["DEMO-0031"]
    done = staff.get(answer.get_data(as_text=True).split('hx-get="')[1].split('"')[0], headers={"HX-Request": "true"})
    assert (
        "重推完成：成功 2，仍失败 0" in done.get_data(as_text=True) and done.headers["HX-Trigger"] == "orders-repushed"
    )
    assert 'class="order-no">' not in staff.get("/goods/fixed-orders").get_data(as_text=True)  # they left the list
    assert re.findall(r'class="order-no">(\w+)<', page(staff, "/abnormal/")) == ["U3"]
    fixed = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "order.code_fixed")).all()
    assert {(entry.target, json.dumps(entry.details)) for entry in fixed} == {
        ("U1", json.dumps({"L1": ["NEW-0001", "DEMO-0005"]})),
        ("U2", json.dumps({"L1": [None, "DEMO-0031"]})),
    }


def test_an_order_also_failing_for_a_code_not_corrected_is_not_offered(shop, signed_in):
    stamp = NOW.isoformat()
    payload = order_payload("U4", created_at=stamp, paid_at=stamp, updated_at=stamp)
    payload["lines"][0].update(goods_id="G3", spec_id="S31", merchant_code=None)
    payload["lines"][1].update(goods_id="G8", spec_id="", merchant_code=None)  # no such goods in the mall's feed
    assert shop.post("/api/v1/orders", payload).status_code == 201
    run_worker()
    fixed = [{**CATALOGUE[2], "specs": [{**CATALOGUE[2]["specs"][0], "merchant_code": "DEMO-0031"}]}]
    shop.post("/api/v1/goods", goods_batch(*fixed, minutes=1))
    staff = signed_in(shop.merchant.code, "staff")
    assert 'class="order-no">' not in staff.get("/goods/fixed-orders").get_data(as_text=True)
    refused = staff.post("/goods/fixed-orders/repush", headers={"X-CSRFToken": staff.csrf, "HX-Request": "true"})
    assert refused.status_code == 422 and "没有可以重推的订单" in refused.get_data(as_text=True)
