"""The English pages show no Chinese but data: every page and fragment, with every kind of state and reason."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.helpers import BASE, csrf_token_from, sign_in, stored_order, switch_on
from wdtpanel.accounts import create_user
from wdtpanel.cli import ensure_merchant
from wdtpanel.columns import utcnow
from wdtpanel.extensions import db
from wdtpanel.models import (
    Goods,
    Order,
    PullIssue,
    PushAttempt,
    Shipment,
    Spec,
    SyncStatus,
    WebhookDelivery,
)
from wdtpanel.reasons import NOTICES, REASONS

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# The one Chinese a page may show in English: the language switch's own name, marked lang="zh-CN".
OTHER_LANGUAGE = re.compile(r'<a [^>]*lang="zh-CN"[^>]*>[^<]*</a>')


def chinese_in(html: str) -> list[str]:
    text = OTHER_LANGUAGE.sub("", html)
    return [text[max(0, m.start() - 40) : m.end() + 40] for m in CJK.finditer(text)]


def ascii_order(merchant, number: int, state: str, reason: str | None = None, params=None, **extra) -> Order:
    """An order whose data is all ASCII, so any Chinese on an English page is the panel's own text."""
    return stored_order(
        merchant,
        number,
        state,
        reason,
        params or {},
        order_no=f"E{number:04d}",
        buyer="buyer",
        goods=("Cup", "Red"),
        code="CUP-1",
        amount="12.5",
        **extra,
    )


def untranslated(client, pages: list[str], posts: dict) -> dict:
    """Chinese outside data in each page (whole and as a fragment) and in each action's answer."""
    found = {}
    for path in pages:
        for headers in ({}, {"HX-Request": "true"}):
            html = client.get(path, headers=headers).get_data(as_text=True)
            if chinese_in(html):
                found[(path, bool(headers))] = chinese_in(html)[:3]
    for name, response in posts.items():
        if chinese_in(response.get_data(as_text=True)):
            found[name] = chinese_in(response.get_data(as_text=True))[:3]
    return found


@pytest.fixture
def english(app):
    """An admin of an ASCII-named merchant, reading English, with one order in every state and every reason."""
    merchant, _ = ensure_merchant("shop-en", "Shop EN")
    user = create_user(merchant, "alice", "pass-1234", "admin")
    db.session.commit()
    params = {
        "detail": "code 1",
        "host": "wdt.example",
        "shop_no": "S1",
        "warehouse_no": "W1",
        "missing": "sid",
        "line": 1,
        "goods": "Cup",
        "spec": "Red",
        "tid": "T1",
        "logistics_name": "ZT",
        "logistics_code": "ZTO",
        "spec_no": "X1",
    }
    for number, code in enumerate(REASONS):
        if code not in ("unconfirmed", "historical"):
            order = ascii_order(merchant, number, "abnormal", code, params)
            db.session.add(
                PushAttempt(
                    merchant_id=merchant.id,
                    order_id=order.id,
                    at=BASE,
                    outcome="abnormal",
                    reason=code,
                    params=params,
                    wdt_message="refused",
                    payload_version=1,
                    payload={"tid": order.order_no, "trade_time": "2026-11-01 02:00:00+00:00"},
                )
            )
    ascii_order(merchant, 90, "unconfirmed", "unconfirmed", params)
    ascii_order(merchant, 91, "historical")
    ascii_order(merchant, 92, "pending", "network", params, next_attempt_at=utcnow() + timedelta(minutes=5))
    ascii_order(merchant, 93, "pending")
    shipped = ascii_order(merchant, 94, "pushed", shipping_state="shipped")
    db.session.add_all(
        [
            PushAttempt(
                merchant_id=merchant.id,
                order_id=shipped.id,
                at=BASE,
                outcome=outcome,
                payload_version=1,
                payload={} if outcome == "abnormal" else {"tid": "E0094"},
                reason="missing_merchant_code" if outcome == "abnormal" else None,
                params=params,
            )
            for outcome in ("abnormal", "retry", "unconfirmed", "pushed")
        ]
    )
    db.session.add(
        Shipment(
            merchant_id=merchant.id,
            order_id=shipped.id,
            wdt_rec_id="R1",
            logistics_no="YT1",
            wdt_logistics_code="ZTO",
            carrier_code="zto",
            shipped_at=BASE,
            line_ids=[],
        )
    )
    db.session.add(
        WebhookDelivery(
            merchant_id=merchant.id,
            order_id=shipped.id,
            event="shipment.created",
            payload={},
            state="pending",
            attempts=2,
            last_error="HTTP 500",
        )
    )
    for number, code in enumerate(["unknown_order", "unmapped_carrier", "unknown_spec"]):
        db.session.add(
            PullIssue(
                merchant_id=merchant.id,
                kind="shipping",
                record_key=f"R{number + 10}",
                subject="T1",
                reason=code,
                params=params,
                record={},
            )
        )
    db.session.add(
        SyncStatus(
            merchant_id=merchant.id,
            kind="shipping",
            last_pull_at=BASE,
            wdt_reachable=False,
            last_error_reason="network",
            last_error_params=params,
            last_error_at=BASE,
        )
    )
    goods = Goods(merchant_id=merchant.id, mall_goods_id="G1", name="Cup")
    goods.specs += [
        Spec(merchant_id=merchant.id, mall_spec_id="S1", name="Red", merchant_code="CUP-1"),
        Spec(merchant_id=merchant.id, mall_spec_id="S2", name="Blue", merchant_code=None),
    ]
    db.session.add(goods)
    db.session.commit()
    client = app.test_client()
    sign_in(client, user)
    client.get("/lang/en")
    client.csrf = csrf_token_from(client.get("/orders/").get_data(as_text=True))
    client.merchant, client.shipped = merchant, shipped
    return client


def test_every_page_and_fragment_in_english_has_no_chinese_but_data(english, app):
    order_ids = [order_id for (order_id,) in db.session.execute(db.select(Order.id))]
    pages = [
        "/settings/wdt",
        "/abnormal/",
        "/abnormal/?date_from=2026-11-03&date_to=2026-11-01",
        "/orders/",
        "/orders/?state=retry",
        "/sync/",
        "/goods/",
        "/goods/?missing=1",
        "/nowhere",
    ]
    pages += [f"/abnormal/orders/{order_id}?expand=1" for order_id in order_ids]
    pages += [f"/orders/{order_id}" for order_id in order_ids]
    hx = {"X-CSRFToken": english.csrf, "HX-Request": "true"}
    posts = {
        "save with errors": english.post(
            "/settings/wdt", data={"edition": "enterprise", "environment": "custom"}, headers=hx
        ),
        "test with errors": english.post("/settings/wdt/test", data={"sid": ""}, headers=hx),
        "inline": english.post("/settings/wdt/validate/appsecret", data={"appsecret": ""}, headers=hx),
        "historical repush": english.post(f"/abnormal/orders/{order_ids[-4]}/repush", headers=hx),
        "empty bulk": english.post("/abnormal/bulk", data={"scope": "selected"}, headers=hx),
        "stale token": english.post("/sync/pull", headers={"X-CSRFToken": "stale", "HX-Request": "true"}),
    }
    assert untranslated(english, pages, posts) == {}


def test_refusals_and_sign_in_pages_in_english(app, english):
    anonymous = app.test_client()
    anonymous.get("/lang/en")
    for path in ("/login", "/login?expired=1", "/embed?token=forged"):
        assert chinese_in(anonymous.get(path).get_data(as_text=True)) == [], path
    staff, _ = ensure_merchant("shop-en", "Shop EN"), None
    clerk = create_user(staff[0], "clerk", None, "staff")
    db.session.commit()
    client = app.test_client()
    sign_in(client, clerk)
    client.get("/lang/en")
    refused = client.get("/settings/wdt")
    assert refused.status_code == 403 and chinese_in(refused.get_data(as_text=True)) == []
    assert "Only administrators" in refused.get_data(as_text=True)


def test_every_reason_and_notice_has_an_english_text(english):
    from flask_babel import force_locale, gettext

    with force_locale("en"):
        texts = [
            gettext(text) for reason in REASONS.values() for text in (reason.label, reason.message, reason.hint) if text
        ]
        texts += [gettext(text) for text in NOTICES.values()]
    assert [text for text in texts if CJK.search(text)] == []


def test_goods_and_stock_pages_in_english_have_no_chinese_but_data(english):
    """商品 with every push state and problem, a 推送全部 under way, orders a corrected code fixes, the stock pull's
    status and issues; their fragments and actions."""
    from wdtpanel.models import GoodsPushRun, Merchant, SpecStock

    merchant = english.merchant
    switch_on(merchant)
    db.session.get(Merchant, merchant.id).goods_editor_url = "https://mall.example/goods/{goods_id}/edit"
    run = GoodsPushRun(merchant_id=merchant.id, total=5)
    db.session.add(run)
    db.session.flush()
    goods = Goods(merchant_id=merchant.id, mall_goods_id="G7", name="Pot")
    goods.specs += [
        Spec(
            merchant_id=merchant.id,
            mall_spec_id="P1",
            name="Big",
            merchant_code="POT-1",
            push_state="pushed",
            pushed_at=BASE,
            push_run_id=run.id,
        ),
        Spec(
            merchant_id=merchant.id,
            mall_spec_id="P2",
            name="Small",
            merchant_code="POT-1",
            push_state="failed",
            push_reason="field_refused",
            push_params={"detail": "bad"},
            push_run_id=run.id,
        ),
        Spec(
            merchant_id=merchant.id,
            mall_spec_id="P3",
            name="Mini",
            merchant_code="POT-3",
            push_state="pending",
            push_reason="network",
            push_params={"host": "wdt.example"},
            push_run_id=run.id,
        ),
        Spec(
            merchant_id=merchant.id,
            mall_spec_id="P4",
            name="Tiny",
            merchant_code=None,
            push_state="failed",
            push_reason="missing_merchant_code",
            push_run_id=run.id,
        ),
        Spec(merchant_id=merchant.id, mall_spec_id="P5", name="Huge", merchant_code="POT-5", push_run_id=run.id),
    ]
    db.session.add(goods)
    db.session.add(
        SpecStock(
            merchant_id=merchant.id,
            mall_goods_id="G7",
            mall_spec_id="P1",
            quantity=Decimal("12"),
            wdt_rec_id="2001",
            change_count=1,
            version=1,
        )
    )
    fixable = ascii_order(merchant, 95, "abnormal", "unknown_merchant_code", {"detail": "code OLD-5 unknown"})
    fixable.lines[0].mall_goods_id, fixable.lines[0].mall_spec_id, fixable.lines[0].merchant_code = "G7", "P5", "OLD-5"
    db.session.add(
        PullIssue(
            merchant_id=merchant.id,
            kind="stock",
            record_key="2009",
            subject="NEW-9",
            reason="unknown_spec",
            params={"spec_no": "NEW-9"},
            record={
                "rec_id": "2009",
                "goods_id": "G9",
                "spec_id": "G9",
                "spec_no": "NEW-9",
                "sync_stock": "3",
                "stock_change_count": 1,
            },
        )
    )
    db.session.add(
        SyncStatus(
            merchant_id=merchant.id,
            kind="stock",
            last_pull_at=BASE,
            wdt_reachable=True,
            records_today=3,
            records_day=BASE.date(),
        )
    )
    db.session.commit()
    specs = {spec.mall_spec_id: spec.id for spec in goods.specs}
    issue_id = db.session.scalar(db.select(PullIssue.id).where(PullIssue.kind == "stock"))
    pages = [
        "/goods/",
        "/goods/?problem=unknown",
        "/goods/?problem=duplicate",
        "/goods/?q=pot",
        "/goods/fixed-orders",
        f"/goods/push-all/{run.id}",
        f"/goods/specs/{specs['P3']}",
        "/sync/",
    ]
    found = untranslated(english, pages, {})  # before the actions change what they show
    hx = {"X-CSRFToken": english.csrf, "HX-Request": "true"}
    posts = {
        "push one": english.post(f"/goods/specs/{specs['P1']}/push", headers=hx),
        "push one without code": english.post(f"/goods/specs/{specs['P4']}/push", headers=hx),
        "push all": english.post("/goods/push-all", headers=hx),
        "retry issue": english.post(f"/sync/issues/stock/{issue_id}/retry", headers=hx),
        "config saved on": english.post(
            "/settings/wdt",
            data={
                "edition": "enterprise",
                "environment": "production",
                "sid": "s",
                "appkey": "k",
                "shop_no": "S1",
                "warehouse_no": "W1",
                "enabled": "",
            },
            headers=hx,
        ),
        "repush fixed": english.post("/goods/fixed-orders/repush", headers=hx),
        "nothing to repush": english.post("/goods/fixed-orders/repush", headers=hx),
    }
    found.update(untranslated(english, [], posts))
    switched_on = english.post(
        "/settings/wdt",
        data={
            "edition": "enterprise",
            "environment": "production",
            "sid": "s",
            "appkey": "k",
            "shop_no": "S1",
            "warehouse_no": "W1",
            "enabled": "y",
        },
        headers=hx,
    ).get_data(as_text=True)
    assert "Pushing all" in switched_on and chinese_in(switched_on) == []
    assert found == {}
