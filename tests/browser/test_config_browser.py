"""旺店通配置 in Chromium: inline errors, the appsecret kept when the field loses focus, 测试连接, save, and a
confirmation before switching the integration off."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.helpers import log_in
from tests.helpers import connect_to_simulator
from wdtpanel.extensions import db
from wdtpanel.merchant_config import appsecret_of
from wdtpanel.models import WdtConfig


def saved(merchant) -> WdtConfig | None:
    db.session.expire_all()
    return db.session.scalar(select(WdtConfig).where(WdtConfig.merchant_id == merchant.id))


def fill_simulator_account(page, simulator) -> None:
    account = simulator.account
    page.get_by_label("接口环境").select_option("custom")
    page.get_by_label("接口地址").fill(simulator.root_url)
    page.get_by_label("sid").fill(account.sid)
    page.get_by_label("appkey").fill(account.appkey)
    page.get_by_label("店铺编号").fill(account.shop_no)
    page.get_by_label("仓库编号").fill(account.warehouse_no)


def test_a_new_merchant_types_the_secret_tests_and_saves(page, live_server, make_merchant, wdt_simulator, shot):
    merchant, admin = make_merchant("shop-a")
    log_in(page, live_server, admin)
    expect(page).to_have_url(f"{live_server}/settings/wdt")
    fill_simulator_account(page, wdt_simulator)
    secret = page.get_by_label("appsecret")
    secret.fill(wdt_simulator.account.appsecret)
    page.get_by_label("店铺编号").focus()  # the secret field loses focus: inline validation runs
    expect(page.locator("#field-appsecret")).not_to_have_class("field has-error")
    page.wait_for_load_state("networkidle")
    expect(secret).to_have_value(wdt_simulator.account.appsecret)
    expect(page.locator("#appsecret-msg")).not_to_contain_text("请填写 appsecret")

    page.get_by_role("button", name="测试连接").click()
    expect(page.locator("#connection-result")).to_contain_text("测试连接：成功")
    expect(page.get_by_label("appsecret")).to_have_value(wdt_simulator.account.appsecret)
    page.get_by_label("开启旺店通对接").check()
    shot(page, "config-tested")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status").filter(has_text="已保存旺店通配置")).to_be_visible()
    expect(page.get_by_label("appsecret")).to_have_value("")  # stored now: the field empties, the mask shows
    expect(page.locator("#appsecret-msg")).to_contain_text("已保存：")
    config = saved(merchant)
    assert appsecret_of(config) == wdt_simulator.account.appsecret and config.enabled
    shot(page, "config-saved")


def test_changing_the_secret_saves_the_new_one(page, live_server, make_merchant, wdt_simulator):
    merchant, admin = make_merchant("shop-a")
    connect_to_simulator(merchant, wdt_simulator)
    log_in(page, live_server, admin)
    page.get_by_label("appsecret").fill("a-new-secret-2026")
    page.get_by_label("sid").focus()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_label("appsecret")).to_have_value("a-new-secret-2026")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status").filter(has_text="已保存旺店通配置")).to_be_visible()
    assert appsecret_of(saved(merchant)) == "a-new-secret-2026"


def test_inline_errors_show_as_the_field_is_left(page, live_server, make_merchant, shot):
    merchant, admin = make_merchant("shop-a")
    log_in(page, live_server, admin)
    page.get_by_label("sid").fill("bad sid!")
    page.get_by_label("appkey").focus()
    expect(page.locator("#sid-msg")).to_contain_text("只能包含字母")
    page.get_by_label("appkey").fill("")
    page.get_by_label("店铺编号").focus()
    expect(page.locator("#appkey-msg")).to_contain_text("请填写 appkey")
    page.get_by_label("旺店通版本").select_option("ultimate")
    page.get_by_label("appsecret").fill("nosalt")
    page.get_by_label("仓库编号").focus()
    expect(page.locator("#appsecret-msg")).to_contain_text("secret:salt")
    expect(page.get_by_label("appsecret")).to_have_value("nosalt")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert").filter(has_text="保存失败")).to_be_visible()
    expect(page.get_by_label("appsecret")).to_have_value("nosalt")
    assert saved(merchant) is None
    shot(page, "config-errors")


def test_switching_off_asks_first(page, live_server, make_merchant, wdt_simulator, shot):
    merchant, admin = make_merchant("shop-a")
    connect_to_simulator(merchant, wdt_simulator)
    log_in(page, live_server, admin)
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    page.get_by_label("开启旺店通对接").uncheck()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_label("开启旺店通对接")).not_to_be_checked()
    assert "确定关闭吗" in questions[0] and saved(merchant).enabled  # dismissed: nothing sent
    page.once("dialog", lambda dialog: answer(dialog, True))
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status").filter(has_text="已保存旺店通配置")).to_be_visible()
    assert not saved(merchant).enabled and len(questions) == 2
    page.get_by_label("appkey").fill("other")  # saving again while off asks nothing
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status").filter(has_text="已保存旺店通配置")).to_be_visible()
    assert len(questions) == 2
