"""Every page as a person sees it: 全部订单, 同步状态, 商品; on a 390 px phone; in English; no request fails."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, no_sideways_scroll
from tests.browser.helpers import log_in
from tests.helpers import BASE, stored_order
from wdtpanel.accounts import create_user
from wdtpanel.cli import ensure_merchant
from wdtpanel.columns import utcnow
from wdtpanel.extensions import db
from wdtpanel.models import Goods, PullIssue, PushAttempt, Shipment, Spec, WebhookDelivery

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def orders_in_every_state(merchant, buyer: str = "买家", goods: str = "保温杯") -> dict:
    """One order per state the pages show, with history, a shipment, a webhook, a pull issue, goods."""
    detail = {"detail": "code 17"}
    orders = {
        "abnormal": stored_order(merchant, 1, buyer=buyer, params=detail),
        "retry": stored_order(
            merchant,
            2,
            state="pending",
            reason="network",
            params={"host": "wdt.example"},
            buyer=buyer,
            next_attempt_at=utcnow() + timedelta(minutes=10),
        ),
        "queued": stored_order(merchant, 3, state="pending", reason=None, buyer=buyer),
        "unconfirmed": stored_order(merchant, 4, state="unconfirmed", reason="unconfirmed", params=detail, buyer=buyer),
        "historical": stored_order(merchant, 5, state="historical", buyer=buyer),
        "shipped": stored_order(merchant, 6, state="pushed", reason=None, buyer=buyer, shipping_state="shipped"),
    }
    shipped = orders["shipped"]
    db.session.add_all(
        [
            PushAttempt(
                merchant_id=merchant.id,
                order_id=shipped.id,
                at=BASE,
                outcome="retry",
                reason="timeout",
                params={"host": "wdt.example"},
                payload_version=1,
                payload={"tid": shipped.order_no},
            ),
            PushAttempt(
                merchant_id=merchant.id,
                order_id=shipped.id,
                at=BASE + timedelta(minutes=1),
                outcome="pushed",
                payload_version=1,
                payload={"tid": shipped.order_no, "trade_time": "2026-11-01 02:00:00+00:00"},
            ),
            Shipment(
                merchant_id=merchant.id,
                order_id=shipped.id,
                wdt_rec_id="R1",
                logistics_no="YT100200300",
                wdt_logistics_code="ZTO",
                carrier_code="zhongtong",
                shipped_at=BASE + timedelta(hours=5),
                line_ids=[],
            ),
            WebhookDelivery(
                merchant_id=merchant.id,
                order_id=shipped.id,
                event="shipment.created",
                payload={},
                state="delivered",
                attempts=1,
            ),
            PullIssue(
                merchant_id=merchant.id,
                kind="shipping",
                record_key="R9",
                subject="T-404",
                reason="unknown_order",
                params={"tid": "T-404"},
                record={},
            ),
            PullIssue(  # WDT nonsense at its widest: a 64-character key, a long tracking no. in the detail
                merchant_id=merchant.id,
                kind="shipping",
                record_key="R" * 51 + "…" + "0123456789ab",
                subject="T-405",
                reason="unstorable_record",
                params={"detail": "value too long for type character varying(64): " + "Z" * 120},
                record={},
            ),
        ]
    )
    item = Goods(merchant_id=merchant.id, mall_goods_id="G1", name=goods)
    item.specs += [
        Spec(merchant_id=merchant.id, mall_spec_id="S1", name="L", merchant_code="CUP-1"),
        Spec(merchant_id=merchant.id, mall_spec_id="S2", name="M", merchant_code=None),
    ]
    db.session.add(item)
    db.session.commit()
    return orders


def test_all_orders_finds_any_order_with_its_whole_story(page, live_server, make_merchant, shot):
    merchant, admin = make_merchant("shop-a")
    orders = orders_in_every_state(merchant)
    log_in(page, live_server, admin, path="/orders/")
    expect(page.locator("a.order-no")).to_have_count(6)
    page.get_by_label("状态").select_option("retry")  # the queued order waiting for its retry
    expect(page.locator("a.order-no")).to_have_text([orders["retry"].order_no])
    expect(page.locator("tbody.order-row")).to_contain_text("等待重试")
    expect(page.locator("tbody.order-row")).to_contain_text("无法连接旺店通")
    page.get_by_label("状态").select_option("")
    page.get_by_label("搜索").fill("n00006")
    page.get_by_label("搜索").press("Enter")
    expect(page.locator("a.order-no")).to_have_text(["N00006"])
    page.get_by_role("link", name="N00006").click()
    row = page.locator(f"#lookup-{orders['shipped'].id}")
    expect(row.locator("table.attempts > tbody > tr")).to_have_count(2)
    expect(row).to_contain_text("YT100200300")
    expect(row).to_contain_text("shipment.created")
    expect(row).to_contain_text("已送达")
    shot(page, "orders-lookup")


def test_sync_status_pulls_now_and_counts_this_merchants_work(page, live_server, make_merchant, shot):
    merchant, admin = make_merchant("shop-a")
    orders_in_every_state(merchant)
    other, _ = make_merchant("shop-b")
    stored_order(other, 1, state="pending", reason=None, order_no="B1")
    log_in(page, live_server, admin, path="/sync/")
    expect(page.locator("dd.waiting")).to_contain_text("排队中 1，推送中 0，等待重试 1")
    shipping_issues = page.locator("#pull-shipping table.issues")
    expect(shipping_issues).to_contain_text("商城中没有订单 T-404")
    expect(page.locator("#pull-stock table.issues")).to_contain_text("没有。")
    expect(shipping_issues).to_contain_text("旺店通发来的记录含有无法保存的值")
    unknown = shipping_issues.get_by_role("row").filter(has_text="T-404")
    unknown.get_by_role("button", name="重新同步").click()  # the order is still unknown: it says so in place
    expect(shipping_issues.get_by_role("alert")).to_contain_text("仍未能同步")
    page.get_by_role("button", name="立即同步").click()
    expect(page.get_by_role("status").filter(has_text="已开始同步")).to_be_visible()
    shot(page, "sync-status")


def test_goods_page_shows_missing_codes(page, live_server, make_merchant, shot):
    merchant, admin = make_merchant("shop-a")
    orders_in_every_state(merchant)
    log_in(page, live_server, admin, path="/goods/")
    missing = page.locator('a.chip[data-problem="missing"]')
    expect(missing).to_contain_text("缺少商家编码 1")
    missing.click()
    expect(page.locator("tbody.sku-row")).to_have_count(1)
    shot(page, "goods")


PAGES = ["/settings/wdt", "/abnormal/", "/orders/", "/sync/", "/goods/"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_fits_a_phone(browser, live_server, make_merchant, shot, lang):
    merchant, admin = make_merchant("shop-a")
    orders = orders_in_every_state(merchant)
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = context.new_page()
    failed = []
    page.on("response", lambda response: response.status >= 400 and failed.append(response.url))
    page.goto(f"{live_server}/lang/{lang}?next=/login")
    assert no_sideways_scroll(page)
    shot(page, f"phone-{lang}-login")
    log_in(page, live_server, admin, path="/settings/wdt") if lang == "zh" else None
    if lang == "en":
        page.get_by_label("Merchant code").fill("shop-a")
        page.get_by_label("Username").fill(admin.username)
        page.get_by_label("Password").fill("pass-1234")
        page.get_by_role("button", name="Log in").click()
    for path in PAGES:
        page.goto(f"{live_server}{path}")
        if path == "/abnormal/":
            page.locator(f"#order-{orders['abnormal'].id} a.order-no").click()
            expect(page.locator(f"#order-{orders['abnormal'].id} table.attempts")).to_be_visible()
        if path == "/orders/":
            page.locator(f"#lookup-{orders['shipped'].id} a.order-no").click()
            expect(page.locator(f"#lookup-{orders['shipped'].id} table.attempts")).to_be_visible()
        assert no_sideways_scroll(page), path
        expect(page.locator("nav.menu")).to_be_hidden()
        shot(page, f"phone-{lang}-{path.strip('/').replace('/', '-')}")
        page.evaluate("window.scrollTo(0, 0)")
        expect(page.locator("header button.link")).to_be_in_viewport()  # 退出 is on the screen
    page.locator(".menu-toggle").click()
    expect(page.locator("nav.menu")).to_be_visible()
    assert no_sideways_scroll(page)
    shot(page, f"phone-{lang}-menu-open")
    assert failed == []  # no 404 (the favicon included), no failed request
    context.close()


def test_english_pages_show_no_chinese_but_data(page, live_server, app, shot):
    merchant, _ = ensure_merchant("shop-en", "Shop EN")
    create_user(merchant, "alice", "pass-1234", "admin")
    db.session.commit()
    orders = orders_in_every_state(merchant, buyer="buyer", goods="Cup")
    page.goto(f"{live_server}/lang/en?next=/login")
    page.get_by_label("Merchant code").fill("shop-en")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("pass-1234")
    page.get_by_role("button", name="Log in").click()
    for path in PAGES:
        page.goto(f"{live_server}{path}")
        for row in page.locator("tbody.order-row a.order-no").all()[:6]:
            row.click()
        page.wait_for_load_state("networkidle")
        text = page.evaluate("""() => { const copy = document.body.cloneNode(true);
            copy.querySelectorAll('[lang="zh-CN"]').forEach((e) => e.remove());
            copy.querySelectorAll('option').forEach((e) => e.setAttribute('data-text', e.textContent));
            const options = [...copy.querySelectorAll('option')].map((e) => e.textContent);
            return copy.innerText + ' ' + options.join(' '); }""")
        data = {orders["abnormal"].lines[0].goods_name, orders["abnormal"].lines[0].spec_name}  # stored_order's lines
        for item in data:
            text = text.replace(item, "")
        assert CJK.findall(text) == [], (path, text[:2000])
        shot(page, f"en{path.rstrip('/').replace('/', '-') or '-home'}")
