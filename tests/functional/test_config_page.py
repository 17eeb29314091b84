"""设置 → 系统配置 → 旺店通配置: validation, the write-only secret, CSRF, tenant isolation, partials."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.helpers import VALID, field_errors, order_payload, post_config, run_worker
from wdtpanel.extensions import db
from wdtpanel.models import AuditEntry, WdtConfig, WebhookDelivery
from wdtpanel.webhooks import deliver


def saved_config(merchant) -> WdtConfig | None:
    db.session.expire_all()
    return db.session.scalar(select(WdtConfig).where(WdtConfig.merchant_id == merchant.id))


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("sid", "", "请填写 sid"),
        ("sid", "bad sid!", "只能包含字母"),
        ("sid", "x" * 65, "64"),
        ("appkey", "", "请填写 appkey"),
        ("appkey", "key with space", "只能包含字母"),
        ("appsecret", "", "请填写 appsecret"),
        ("appsecret", "has space", "不能包含空格"),
        ("appsecret", "y" * 129, "128"),
        ("shop_no", "", "请填写店铺编号"),
        ("shop_no", "s" * 21, "20"),
        ("shop_no", "shop 01", "不能包含空格"),
        ("warehouse_no", "", "请填写仓库编号"),
        ("warehouse_no", "w" * 41, "40"),
        ("edition", "platinum", "不是有效的选择"),
        ("environment", "moon", "不是有效的选择"),
    ],
)
def test_each_field_is_validated(client_a, field, value, message):
    response = post_config(client_a, {**VALID, field: value})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in field_errors(html, field)
    assert "保存失败" in html
    assert saved_config(client_a.merchant) is None


def test_custom_environment_needs_its_url(client_a):
    html = post_config(client_a, {**VALID, "environment": "custom"}).get_data(as_text=True)
    assert "选择自定义地址时请填写接口地址" in field_errors(html, "custom_base_url")


def test_custom_url_must_be_http(client_a):
    html = post_config(client_a, {**VALID, "environment": "custom", "custom_base_url": "ftp:/nope"}).get_data(
        as_text=True
    )
    assert "http://" in field_errors(html, "custom_base_url") and saved_config(client_a.merchant) is None


def test_ultimate_secret_needs_salt(client_a):
    html = post_config(client_a, {**VALID, "edition": "ultimate", "appsecret": "nosalt"}).get_data(as_text=True)
    assert "secret:salt" in field_errors(html, "appsecret")
    assert post_config(client_a, {**VALID, "edition": "ultimate", "appsecret": "sec:salt"}).status_code == 200
    assert saved_config(client_a.merchant).edition == "ultimate"


def test_inline_validation_returns_only_that_field(client_a):
    response = client_a.post(
        "/settings/wdt/validate/shop_no",
        data={**VALID, "shop_no": ""},
        headers={"X-CSRFToken": client_a.csrf, "HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert html.strip().startswith('<div class="field has-error" id="field-shop_no">')
    assert "请填写店铺编号" in html and "field-sid" not in html
    ok = client_a.post(
        "/settings/wdt/validate/shop_no", data=VALID, headers={"X-CSRFToken": client_a.csrf, "HX-Request": "true"}
    ).get_data(as_text=True)
    assert "has-error" not in ok and 'hx-post="/settings/wdt/validate/shop_no"' in ok


def test_save_stores_config_and_says_so(client_a):
    html = post_config(client_a, VALID).get_data(as_text=True)
    assert "已保存旺店通配置" in html
    config = saved_config(client_a.merchant)
    assert (config.sid, config.appkey, config.shop_no, config.warehouse_no) == ("mysid", "myappkey", "shop01", "wh01")
    assert config.enabled and config.enabled_at is not None


def test_secret_is_encrypted_masked_and_never_rendered(client_a):
    post_config(client_a, VALID)
    config = saved_config(client_a.merchant)
    assert "s3cret-value-ab12" not in config.appsecret_encrypted
    page = client_a.get("/settings/wdt").get_data(as_text=True)
    assert "s3cret-value-ab12" not in page
    assert "••••••ab12" in page
    raw_rows = db.session.execute(db.text("SELECT appsecret_encrypted FROM wdt_config")).scalars().all()
    assert all("s3cret" not in row for row in raw_rows)


def test_empty_secret_keeps_the_saved_one(client_a):
    post_config(client_a, VALID)
    before = saved_config(client_a.merchant).appsecret_encrypted
    html = post_config(client_a, {**VALID, "appsecret": "", "shop_no": "shop02"}).get_data(as_text=True)
    assert "已保存旺店通配置" in html
    config = saved_config(client_a.merchant)
    from wdtpanel.merchant_config import appsecret_of

    assert config.shop_no == "shop02" and appsecret_of(config) == "s3cret-value-ab12"
    assert before  # the secret was there before and is still usable


def test_audit_log_lists_changes_without_the_secret(client_a):
    post_config(client_a, VALID)
    post_config(client_a, {**VALID, "appsecret": "another-secret-9999", "sid": "sid2"})
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["wdt_config.update", "wdt_config.update"]
    assert entries[1].details["sid"] == ["mysid", "sid2"]
    assert entries[1].actor == client_a.user.username
    text = repr([e.details for e in entries])
    assert "another-secret" not in text and "s3cret" not in text and "changed" in text


def test_switching_on_records_the_moment(client_a):
    post_config(client_a, {**VALID, "enabled": ""})
    assert saved_config(client_a.merchant).enabled_at is None
    post_config(client_a, {**VALID, "appsecret": ""})
    first_on = saved_config(client_a.merchant).enabled_at
    assert first_on is not None
    post_config(client_a, {**VALID, "appsecret": "", "shop_no": "other"})
    assert saved_config(client_a.merchant).enabled_at == first_on


def test_logistics_mapping_saved_and_validated(client_a):
    post_config(client_a, VALID)
    config = saved_config(client_a.merchant)
    config.known_logistics = [{"code": "ZTO", "name": "中通"}, {"code": "SF", "name": "顺丰"}]  # as 测试连接 lists them
    db.session.commit()
    page = client_a.get("/settings/wdt").get_data(as_text=True)
    assert "中通" in page and "顺丰" in page
    rows = {
        "logistics-0-wdt_code": "SF",
        "logistics-0-wdt_name": "顺丰",
        "logistics-0-selected": "y",
        "logistics-0-mall_code": "",
        "logistics-1-wdt_code": "ZTO",
        "logistics-1-wdt_name": "中通",
        "logistics-1-selected": "y",
        "logistics-1-mall_code": "zhongtong",
    }
    html = post_config(client_a, {**VALID, "appsecret": "", **rows}).get_data(as_text=True)
    assert "已勾选的物流公司需要填写商城物流编码" in html
    rows["logistics-0-mall_code"] = "shunfeng"
    post_config(client_a, {**VALID, "appsecret": "", **rows})
    config = saved_config(client_a.merchant)
    assert {(m.wdt_code, m.mall_code) for m in config.logistics} == {("SF", "shunfeng"), ("ZTO", "zhongtong")}
    del rows["logistics-1-selected"]
    post_config(client_a, {**VALID, "appsecret": "", **rows})
    assert [m.wdt_code for m in saved_config(client_a.merchant).logistics] == ["SF"]


def test_config_is_in_the_database_not_in_memory(client_a):
    post_config(client_a, VALID)
    merchant_id = client_a.merchant.id
    db.session.remove()
    db.engine.dispose()  # every connection closed: what is read next comes from the database file or server
    config = db.session.scalar(select(WdtConfig).where(WdtConfig.merchant_id == merchant_id))
    assert config.sid == "mysid"


def test_form_without_csrf_token_is_refused(client_a):
    response = client_a.post("/settings/wdt", data=VALID)
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)
    assert saved_config(client_a.merchant) is None


def test_merchants_cannot_see_or_change_each_other(client_a, client_b):
    post_config(client_a, VALID)
    page_b = client_b.get("/settings/wdt").get_data(as_text=True)
    assert "mysid" not in page_b and "••••••ab12" not in page_b
    tampered = {**VALID, "sid": "b-sid", "merchant_id": str(client_a.merchant.id), "appsecret": "b-secret-0000"}
    post_config(client_b, tampered)
    assert saved_config(client_a.merchant).sid == "mysid"
    assert saved_config(client_b.merchant).sid == "b-sid"


def test_session_of_one_merchant_cannot_pose_as_another(app, client_a, client_b):
    with client_a.session_transaction() as sess:
        sess["merchant_id"] = client_b.merchant.id  # user of A, merchant id of B
    response = client_a.get("/settings/wdt")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_staff_cannot_change_config(signed_in):
    staff = signed_in("shop-c", role="staff")
    assert staff.get("/settings/wdt").status_code == 403


def test_fragment_and_page_come_from_the_same_partial(client_a):
    post_config(client_a, VALID)
    page = client_a.get("/settings/wdt").get_data(as_text=True)
    fragment = client_a.get("/settings/wdt", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<form id="wdt-config-form"')
    assert "<html" not in fragment and "<html" in page
    unsigned = re.compile(r'name="csrf_token" type="hidden" value="[^"]*"')  # a token carries the second it was made
    assert unsigned.sub("", fragment.strip()) in unsigned.sub("", page)
    history = client_a.get("/settings/wdt", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in history.get_data(as_text=True)
    assert "HX-Request" in history.headers["Vary"]


def test_unauthenticated_htmx_request_is_sent_to_login(app):
    response = app.test_client().get("/settings/wdt", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/login?expired=1"


def test_inline_validation_asks_for_a_secret_until_one_is_saved(client_a):
    headers = {"X-CSRFToken": client_a.csrf, "HX-Request": "true"}
    missing = client_a.post("/settings/wdt/validate/appsecret", data={**VALID, "appsecret": ""}, headers=headers)
    assert "请填写 appsecret" in field_errors(missing.get_data(as_text=True), "appsecret")
    post_config(client_a, VALID)
    kept = client_a.post("/settings/wdt/validate/appsecret", data={**VALID, "appsecret": ""}, headers=headers)
    html = kept.get_data(as_text=True)
    assert field_errors(html, "appsecret") == "" and "••••••ab12" in html


def test_repeated_or_incomplete_logistics_rows_do_not_break_the_page(client_a):
    rows = {
        "logistics-0-wdt_code": "SF",
        "logistics-0-selected": "y",
        "logistics-0-mall_code": "sf",
        "logistics-1-wdt_code": "SF",
        "logistics-1-selected": "y",
        "logistics-1-mall_code": "sf2",
        "logistics-2-wdt_code": "ZTO",
        "logistics-2-selected": "y",
    }
    response = post_config(client_a, {**VALID, **rows})
    assert response.status_code == 422
    assert "已勾选的物流公司需要填写商城物流编码" in response.get_data(as_text=True)
    del rows["logistics-2-selected"]
    assert "已保存旺店通配置" in post_config(client_a, {**VALID, **rows}).get_data(as_text=True)
    assert [(m.wdt_code, m.mall_code) for m in saved_config(client_a.merchant).logistics] == [("SF", "sf2")]


def test_events_wait_for_a_callback_url_and_go_once_one_is_saved(client_a, mall_receiver):
    delivery = WebhookDelivery(merchant_id=client_a.merchant.id, event="order.abnormal", payload=order_payload())
    db.session.add(delivery)
    db.session.commit()
    assert deliver(delivery.id) is False  # no URL yet: it waits (no exception, so no RQ retries)
    db.session.refresh(delivery)
    assert delivery.state == "pending" and delivery.last_error == "no callback URL configured"
    post_config(client_a, {**VALID, "webhook_url": mall_receiver.url})
    run_worker()
    db.session.refresh(delivery)
    assert delivery.state == "delivered"
    assert [delivery_id for delivery_id, _ in mall_receiver.answers] == [str(delivery.id)]


@pytest.mark.parametrize("url", ["http://example.com:99999/", "http://[::1/"])
def test_an_address_that_cannot_be_parsed_is_refused_on_its_field(client_a, url):
    answer = post_config(client_a, {**VALID, "webhook_url": url})
    assert answer.status_code == 422 and field_errors(answer.get_data(as_text=True), "webhook_url")
    custom = post_config(client_a, {**VALID, "environment": "custom", "custom_base_url": url})
    assert custom.status_code == 422 and field_errors(custom.get_data(as_text=True), "custom_base_url")
    tested = client_a.post(
        "/settings/wdt/test",
        data={**VALID, "environment": "custom", "custom_base_url": url},
        headers={"X-CSRFToken": client_a.csrf, "HX-Request": "true"},
    )
    assert tested.status_code < 500
