"""旺店通异常订单 in a real browser: 订单重推 swaps the row in place; bulk re-push shows progress."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from tests.helpers import connect_to_simulator, order_payload, run_worker
from wdtpanel.extensions import db
from wdtpanel.models import Order, WdtConfig
from wdtpanel.security import make_embed_token

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "bench" / "out"


def abnormal_orders(mall_api, simulator, count: int, code_prefix: str = "LATER-"):
    """Orders whose merchant codes WDT does not know yet (so they become abnormal)."""
    now = datetime.now(timezone.utc)
    config = db.session.scalar(select(WdtConfig).where(WdtConfig.merchant_id == mall_api.merchant.id))
    config.enabled_at = now - timedelta(minutes=5)
    db.session.commit()
    codes = []
    for index in range(count):
        payload = order_payload(f"B{index:03d}", created_at=now.isoformat(), paid_at=now.isoformat(),
                                updated_at=now.isoformat())
        payload["lines"][0]["merchant_code"] = code = f"{code_prefix}{index:03d}"
        codes.append(code)
        assert mall_api.post("/api/v1/orders", payload).status_code == 201
    run_worker()
    return codes


def open_as_staff(page, live_server, mall_api, path="/abnormal/"):
    page.goto(f"{live_server}/embed?token={make_embed_token(mall_api.merchant.code, 'clerk', 'staff')}")
    page.goto(f"{live_server}{path}")


def test_repush_swaps_the_row_in_place_and_it_leaves_the_list(page, live_server, mall_api, wdt_simulator):
    connect_to_simulator(mall_api.merchant, wdt_simulator)
    codes = abnormal_orders(mall_api, wdt_simulator, 2)
    open_as_staff(page, live_server, mall_api)
    row = page.locator("tbody#order-%d" % db.session.scalar(select(Order.id).where(Order.order_no == "B000")))
    expect(row).to_contain_text("商家编码在旺店通中不存在")
    page.screenshot(path=str(SCREENSHOTS / "abnormal-before.png"), full_page=True)

    wdt_simulator.add_goods(codes)  # the clerk fixed the cause in WDT
    row.get_by_role("button", name="订单重推").click()
    expect(row).to_contain_text(re.compile("排队中|推送中"))
    run_worker()
    expect(row).to_contain_text("已推送到旺店通", timeout=5000)
    expect(row).to_have_count(0, timeout=8000)  # leaves the list after the confirmation
    expect(page.locator("tbody.order-row")).to_have_count(1)
    assert page.url.endswith("/abnormal/")  # no reload, no navigation


def test_bulk_repush_shows_progress_and_a_summary(page, live_server, mall_api, wdt_simulator):
    connect_to_simulator(mall_api.merchant, wdt_simulator)
    codes = abnormal_orders(mall_api, wdt_simulator, 3)
    wdt_simulator.add_goods(codes[:2])  # one stays unknown
    open_as_staff(page, live_server, mall_api)
    for box in page.locator("input[name=order_ids]").all():
        box.check()
    page.get_by_role("button", name="重推选中").click()
    progress = page.locator("#bulk-progress progress")
    expect(progress).to_be_visible()
    expect(page.locator("#bulk-progress")).to_contain_text("0 / 3")
    expect(page.locator("tbody.state-queued")).to_have_count(3)  # the selected rows changed in place
    page.screenshot(path=str(SCREENSHOTS / "abnormal-bulk-progress.png"), full_page=True)
    run_worker()
    summary = page.locator("#bulk-progress .summary")
    expect(summary).to_contain_text("批量重推完成", timeout=5000)
    expect(summary).to_contain_text("成功 2")
    expect(page.locator("tbody.order-row")).to_have_count(1, timeout=8000)  # the two pushed rows left the list
    expect(page.locator("tbody.order-row")).to_contain_text("LATER-002")
    page.screenshot(path=str(SCREENSHOTS / "abnormal-bulk.png"), full_page=True)
