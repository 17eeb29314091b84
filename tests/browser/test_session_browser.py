"""When the session is gone or the page's token is stale, an HTMX action says so instead of failing silently."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import update

from tests.browser.helpers import log_in
from tests.helpers import connect_to_simulator, stored_order
from wdtpanel.extensions import db
from wdtpanel.models import Order, User


def end_sessions_elsewhere(user) -> None:
    """As signing out in another tab does: every session of the user made before now stops working."""
    db.session.execute(update(User).where(User.id == user.id).values(session_version=User.session_version + 1))
    db.session.commit()


def test_an_expired_session_sends_the_user_to_sign_in_and_back(page, live_server, make_merchant, shot):
    merchant, admin = make_merchant("shop-a")
    order = stored_order(merchant, 1)
    log_in(page, live_server, admin, path="/abnormal/")
    expect(page.locator("main h1")).to_have_text("旺店通异常订单")
    end_sessions_elsewhere(admin)
    page.locator(f"#order-{order.id}").get_by_role("button", name="订单重推").click()
    expect(page).to_have_url(f"{live_server}/login?next=/abnormal/&expired=1")
    expect(page.get_by_role("status")).to_contain_text("登录已过期或已退出，请重新登录")
    shot(page, "session-expired-login")
    db.session.expire_all()
    assert db.session.get(Order, order.id).sync_state == "abnormal"  # nothing happened without a session
    page.get_by_label("商户编号").fill("shop-a")
    page.get_by_label("用户名").fill(admin.username)
    page.get_by_label("密码").fill("pass-1234")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}/abnormal/")


def test_save_and_test_connection_with_a_stale_token_show_a_banner(
    browser, live_server, make_merchant, wdt_simulator, shot
):
    merchant, admin = make_merchant("shop-a")
    connect_to_simulator(merchant, wdt_simulator)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    first = context.new_page()
    log_in(first, live_server, admin)
    second = context.new_page()
    log_in(second, live_server, admin)  # signing in again in another tab makes a new session and token
    first.bring_to_front()
    first.get_by_role("button", name="保存").click()
    banner = first.locator("#banner")
    expect(banner).to_contain_text("页面已过期")
    first.get_by_role("button", name="测试连接").click()
    expect(banner).to_contain_text("页面已过期")
    shot(first, "stale-token-banner")
    banner.get_by_role("link", name="刷新页面").click()
    first.get_by_role("button", name="保存").click()
    expect(first.get_by_role("status").filter(has_text="已保存旺店通配置")).to_be_visible()
    context.close()


def test_a_server_error_in_an_action_shows_a_banner(app, page, live_server, make_merchant, monkeypatch):
    merchant, _ = make_merchant("shop-a")
    order = stored_order(merchant, 1)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error answer, not a traceback

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("wdtpanel.push.repush.repush", broken)
    from tests.browser.helpers import open_by_link

    open_by_link(page, live_server, "shop-a", path="/abnormal/")
    page.locator(f"#order-{order.id}").get_by_role("button", name="订单重推").click()
    expect(page.locator("#banner")).to_contain_text("服务器出错")
    expect(page.locator(f"#order-{order.id}")).to_contain_text("订单重推")  # the row is as it was
