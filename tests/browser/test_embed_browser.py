"""The panel inside the mall's admin, another site (127.0.0.2), in Chromium with default settings: third-party
cookies blocked. With the partitioned session cookie, and with no cookie reaching the panel at all."""

from __future__ import annotations

import re
from urllib.parse import quote

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, no_sideways_scroll
from tests.helpers import stored_order
from wdtpanel.extensions import db
from wdtpanel.models import Order
from wdtpanel.security import make_embed_token


def frame_link(live_server, merchant_code: str, username: str = "clerk", role: str = "staff", path: str = "") -> str:
    return f"{live_server}/embed?token={make_embed_token(merchant_code, username, role)}" + (
        f"&next={quote(path)}" if path else ""
    )


def repush_in_frame(page, mall_admin, order):
    panel = page.frame_locator("#panel")
    row = panel.locator(f"#order-{order.id}")
    expect(row).to_contain_text("商家编码在旺店通中不存在")
    row.get_by_role("button", name="订单重推").click()  # a CSRF-protected HTMX POST from inside the frame
    expect(row).to_contain_text(re.compile("排队中|推送中"))
    db.session.expire_all()
    assert db.session.get(Order, order.id).sync_state == "pending"
    return panel


def test_cross_site_frame_with_a_partitioned_cookie(app, page, live_server, mall_admin, make_merchant, shot):
    app.config.update(SESSION_COOKIE_SAMESITE="None", SESSION_COOKIE_SECURE=True)  # cross-site mode
    merchant, _ = make_merchant("shop-a")
    order = stored_order(merchant, 1)
    mall_admin.frame_src = frame_link(live_server, "shop-a", path="/abnormal/")
    page.goto(mall_admin.origin)
    panel = repush_in_frame(page, mall_admin, order)
    cookies = page.context.cookies(live_server)
    assert cookies and cookies[0]["sameSite"] == "None" and cookies[0].get("partitionKey")
    panel.get_by_role("link", name="全部订单").click()
    expect(panel.locator("main h1")).to_have_text("全部订单")
    shot(page, "embed-cross-site-chips")


def test_cross_site_frame_where_no_cookie_reaches_the_panel(app, page, live_server, mall_admin, make_merchant, shot):
    """Lax cookies never reach a cross-site frame: the frame's session travels in a header."""
    app.config.update(SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=False)
    merchant, _ = make_merchant("shop-a")
    order = stored_order(merchant, 1)
    mall_admin.frame_src = frame_link(live_server, "shop-a", path="/abnormal/")
    page.goto(mall_admin.origin)
    panel = repush_in_frame(page, mall_admin, order)
    panel.get_by_role("link", name="同步状态").click()  # a menu link: boosted, it carries the session too
    expect(panel.locator("main h1")).to_have_text("同步状态")
    panel.get_by_role("button", name="立即同步").click()
    expect(panel.get_by_role("status").filter(has_text="已开始同步")).to_be_visible()
    panel.get_by_role("link", name="English").click()
    expect(panel.locator("main h1")).to_have_text("Sync status")
    panel.get_by_role("link", name="WDT failed orders").click()
    expect(panel.locator("main h1")).to_have_text("WDT failed orders")
    shot(page, "embed-cross-site-no-cookie-en")

    # The mall's page again with the link it already used. Chromium gives a third-party frame no storage either
    # when it blocks its cookies, so nothing of the session survives a reload here: the frame says what to do.
    page.reload()
    expect(page.frame_locator("#panel").locator("main")).to_contain_text("请回到商城后台重新打开本页面")
    shot(page, "embed-no-cookie-reloaded-with-a-spent-link")


def test_reloading_the_mall_page_with_a_spent_link_keeps_the_frame_signed_in(
    app, page, live_server, mall_admin, make_merchant
):
    app.config.update(SESSION_COOKIE_SAMESITE="None", SESSION_COOKIE_SECURE=True)
    make_merchant("shop-a")
    mall_admin.frame_src = frame_link(live_server, "shop-a", path="/orders/")
    page.goto(mall_admin.origin)
    expect(page.frame_locator("#panel").locator("main h1")).to_have_text("全部订单")
    page.reload()
    expect(page.frame_locator("#panel").locator("main h1")).to_have_text("全部订单")
    expect(page.frame_locator("#panel").locator("body")).not_to_contain_text("已使用过")


def test_a_staff_link_has_no_config_menu_and_config_is_refused_in_words(page, live_server, make_merchant, shot):
    make_merchant("shop-a")
    page.goto(frame_link(live_server, "shop-a"))
    expect(page.locator("main h1")).to_have_text("旺店通异常订单")
    expect(page.locator("nav.menu")).not_to_contain_text("旺店通配置")
    page.goto(f"{live_server}/settings/wdt")
    expect(page.locator("main h1")).to_have_text("没有权限")
    expect(page.locator("main")).to_contain_text("只有管理员")
    assert "Forbidden" not in page.content()
    shot(page, "staff-forbidden")


def test_frame_on_a_phone(browser, app, live_server, mall_admin, make_merchant, shot):
    merchant, _ = make_merchant("shop-a")
    stored_order(merchant, 1)
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(frame_link(live_server, "shop-a", path="/abnormal/"))
    expect(page.locator("main h1")).to_have_text("旺店通异常订单")
    assert no_sideways_scroll(page)
    shot(page, "phone-abnormal-embedded")
    context.close()
