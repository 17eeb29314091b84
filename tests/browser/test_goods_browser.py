"""商品 in a real browser: filters by problem, search, 推送到旺店通 on a row, 推送全部 with its progress bar, and
重推受影响订单 once the mall has corrected a code; at 1280 and 390 px, in Chinese and English."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import PHONE, no_sideways_scroll
from tests.browser.helpers import open_by_link
from tests.helpers import CATALOGUE, connect_to_simulator, goods_batch, order_payload, run_worker
from wdtpanel.extensions import db
from wdtpanel.models import Merchant, WdtConfig

NOW = datetime.now(UTC)
SHOWN = [CATALOGUE[0], {**CATALOGUE[1], "name": "Longjing 龙井茶叶"}, *CATALOGUE[2:]]  # a name with letters


def post_goods(mall_api, *goods, minutes: int = 0) -> None:
    assert mall_api.post("/api/v1/goods", goods_batch(*goods, minutes=minutes)).status_code == 200


@pytest.fixture
def shop(mall_api, wdt_simulator):
    """The catalogue pushed; an order for NEW-0001 (unknown to WDT) failed; the mall's editor link set."""
    connect_to_simulator(mall_api.merchant, wdt_simulator)
    config = db.session.scalar(select(WdtConfig).where(WdtConfig.merchant_id == mall_api.merchant.id))
    config.enabled_at = NOW - timedelta(minutes=5)
    db.session.get(Merchant, mall_api.merchant.id).goods_editor_url = "https://mall.example/admin/goods/{goods_id}/edit"
    db.session.commit()
    post_goods(mall_api, *SHOWN)
    stamp = NOW.isoformat()
    order = order_payload("U1", created_at=stamp, paid_at=stamp, updated_at=stamp)
    order["lines"] = [
        dict(order["lines"][0], goods_id="G4", spec_id="", merchant_code="NEW-0001", quantity=1, price="10.00")
    ]
    order["amounts"] = {"post": "0", "discount": "0", "paid": "10.00"}
    assert mall_api.post("/api/v1/orders", order).status_code == 201
    run_worker()
    return mall_api


def chip(page, problem: str):
    return page.locator(f'a.chip[data-problem="{problem}"]')


def test_filters_search_push_one_and_push_all_with_progress(page, live_server, shop, wdt_simulator, shot):
    open_by_link(page, live_server, shop.merchant.code, path="/goods/")
    rows = page.locator("tbody.sku-row")
    expect(rows).to_have_count(6)
    for problem, text in (
        ("missing", "缺少商家编码 1"),
        ("unknown", "编码在旺店通不存在 1"),
        ("duplicate", "编码重复 2"),
        ("failed", "推送失败 0"),
    ):
        expect(chip(page, problem)).to_contain_text(text)
    shot(page, "goods-all")
    chip(page, "duplicate").click()
    expect(rows).to_have_count(2)
    expect(rows).to_contain_text(["DEMO-0001", "demo-0001"])
    assert page.url.endswith("/goods/?problem=duplicate&q=")
    chip(page, "unknown").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("编码在旺店通不存在")
    expect(rows.first.get_by_role("link", name="去商城修改")).to_have_attribute(
        "href", "https://mall.example/admin/goods/G4/edit"
    )
    chip(page, "missing").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("未推送：缺少商家编码")
    expect(rows.first.get_by_role("button", name="推送到旺店通")).to_have_count(0)
    chip(page, "all").click()
    search = page.get_by_label("搜索")  # typed at once: the search replaces the chip's request under way
    search.fill("longJING")
    search.press("Enter")
    expect(rows).to_have_count(1)
    search.fill("emo-000")
    search.press("Enter")
    expect(rows).to_have_count(4)  # part of a code, any case
    search.fill("")
    search.press("Enter")
    expect(rows).to_have_count(6)

    tea = page.locator("tbody.sku-row", has_text="DEMO-0003")
    expect(tea).to_contain_text("已推送")
    tea.get_by_role("button", name="推送到旺店通").click()
    expect(tea).to_contain_text("等待推送…")
    shot(page, "goods-push-one")
    run_worker()
    expect(tea).to_contain_text("已推送", timeout=6000)  # the row polled its own next state
    expect(tea.get_by_role("button", name="推送到旺店通")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="推送全部到旺店通").click()
    progress = page.locator("#push-progress progress")
    expect(progress).to_be_visible()
    expect(page.locator("#push-progress")).to_contain_text("0 / 6")
    expect(page.locator("tbody.sku-row.push-pending")).to_have_count(6)  # the list shows every SKU waiting
    shot(page, "goods-push-all-progress")
    run_worker()
    expect(page.locator("#push-progress .summary")).to_contain_text("推送完成：成功 5，失败 1", timeout=6000)
    expect(page.locator("tbody.sku-row.push-pending")).to_have_count(0, timeout=6000)  # the list refreshed itself
    shot(page, "goods-push-all-done")
    assert page.url.endswith("/goods/?problem=&q=") or page.url.endswith("/goods/")


def test_a_corrected_code_repushes_its_orders_in_one_action(page, live_server, shop, shot):
    post_goods(shop, {**CATALOGUE[3], "merchant_code": "DEMO-0005"}, minutes=1)
    run_worker()
    open_by_link(page, live_server, shop.merchant.code, path="/goods/")
    section = page.locator("#fixed-orders")
    expect(section).to_contain_text("商家编码已更正：1 个异常订单可以重推")
    expect(section.locator("td.order-no")).to_have_text(["U1"])
    shot(page, "goods-fixed-orders")
    section.get_by_role("button", name="重推受影响订单（1）").click()
    expect(page.locator("#repush-progress")).to_contain_text("0 / 1")
    run_worker()
    expect(page.locator("#repush-progress .summary")).to_contain_text("重推完成：成功 1，仍失败 0", timeout=6000)
    expect(section).to_be_empty(timeout=6000)  # the section refreshed itself: nothing left to fix
    expect(page.locator("#fixed-orders")).to_have_count(1)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", [1280, PHONE["width"]])
def test_goods_page_fits_the_screen_in_both_languages(browser, live_server, shop, shot, lang, width):
    post_goods(shop, {**CATALOGUE[3], "merchant_code": "DEMO-0005"}, minutes=1)  # an order to fix, too
    run_worker()
    viewport = {"width": width, "height": 900 if width > 600 else PHONE["height"]}
    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=width < 600)
    page = context.new_page()
    open_by_link(page, live_server, shop.merchant.code, path=f"/lang/{lang}?next=/goods/")
    expect(page.locator("#fixed-orders h2")).to_be_visible()
    assert no_sideways_scroll(page)
    if lang == "en":
        expect(chip(page, "unknown")).to_contain_text("Code unknown to WDT")
        text = page.locator("main").inner_text()
        data = {"保温杯", "红色", "蓝色", "龙井茶叶", "帆布袋", "大号", "新品试用装", "保温杯礼盒", "买家小王"}
        for item in sorted(data, key=len, reverse=True):
            text = text.replace(item, "")
        assert not re.search(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]", text), text
    shot(page, f"goods-{lang}-{width}")
    context.close()
