"""同步状态 per kind of pull (shipping, stock): status, records today, open issues with 重新同步 in place."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.helpers import add_goods, switch_on
from wdtpanel.extensions import db
from wdtpanel.models import PullIssue, SpecStock, SyncStatus, WebhookDelivery

BASE = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def stock_issue(merchant, code: str = "NEW-9", goods_id: str = "G9") -> PullIssue:
    record = {
        "rec_id": "2009",
        "goods_id": goods_id,
        "spec_id": goods_id,
        "spec_no": code,
        "sync_stock": "12",
        "stock_change_count": 3,
    }
    issue = PullIssue(
        merchant_id=merchant.id,
        kind="stock",
        record_key="2009",
        subject=code,
        reason="unknown_spec",
        params={"spec_no": code},
        record=record,
    )
    db.session.add(issue)
    db.session.commit()
    return issue


def hx(client) -> dict:
    return {"X-CSRFToken": client.csrf, "HX-Request": "true"}


def test_each_kind_has_its_status_records_today_and_issues(client_a):
    merchant = client_a.merchant
    today = datetime.now(UTC)
    local_day = today.astimezone(ZoneInfo("Asia/Shanghai")).date()
    db.session.add_all(
        [
            SyncStatus(
                merchant_id=merchant.id,
                kind="shipping",
                last_pull_at=BASE,
                last_success_at=BASE,
                wdt_reachable=True,
                records_today=4,
                records_day=BASE.date(),
            ),  # another day: 0 today
            SyncStatus(
                merchant_id=merchant.id,
                kind="stock",
                last_pull_at=today,
                wdt_reachable=False,
                last_error_reason="network",
                last_error_params={"host": "wdt.example"},
                last_error_at=today,
                records_today=17,
                records_day=local_day,
            ),
        ]
    )
    db.session.commit()
    stock_issue(merchant)
    html = client_a.get("/sync/").get_data(as_text=True)
    shipping = html[html.index('id="pull-shipping"') : html.index('id="pull-stock"')]
    stock = html[html.index('id="pull-stock"') :]
    assert "物流同步" in shipping and "可以连接" in shipping and "今日拉取物流记录" in shipping
    assert '<dd class="records-today">0</dd>' in shipping and "NEW-9" not in shipping
    assert "库存同步" in stock and "无法连接" in stock and '<dd class="records-today">17</dd>' in stock
    assert "wdt.example" in stock and "商城中没有商家编码为 NEW-9 的规格" in stock and "重新同步" in stock


def test_retry_applies_the_kept_record_once_its_cause_is_fixed(client_a):
    merchant = client_a.merchant
    switch_on(merchant)
    issue = stock_issue(merchant)
    still = client_a.post(f"/sync/issues/stock/{issue.id}/retry", headers=hx(client_a))
    html = still.get_data(as_text=True)
    assert still.status_code == 200 and html.lstrip().startswith(f'<tbody id="issue-{issue.id}"')
    assert "仍未能同步（已尝试 2 次）" in html and "重新同步" in html
    add_goods(merchant, "G9", "新品", code="NEW-9")
    done = client_a.post(f"/sync/issues/stock/{issue.id}/retry", headers=hx(client_a)).get_data(as_text=True)
    assert "已重新同步" in done and "<button" not in done
    db.session.expire_all()
    assert db.session.get(PullIssue, issue.id).resolved_at is not None
    assert db.session.scalar(select(SpecStock.quantity).where(SpecStock.mall_goods_id == "G9")) == 12
    [event] = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.event == "stock.changed")).all()
    assert event.payload["changes"][0]["quantity"] == "12"
    again = client_a.post(f"/sync/issues/stock/{issue.id}/retry", headers=hx(client_a)).get_data(as_text=True)
    assert "已重新同步" in again  # resolved meanwhile: the row says so
    assert db.session.scalar(select(WebhookDelivery.id).where(WebhookDelivery.id != event.id)) is None


def test_retry_is_refused_for_another_merchant_another_kind_or_without_the_token(client_a, client_b):
    switch_on(client_a.merchant)
    issue = stock_issue(client_a.merchant)
    assert client_b.post(f"/sync/issues/stock/{issue.id}/retry", headers=hx(client_b)).status_code == 404
    assert client_a.post(f"/sync/issues/shipping/{issue.id}/retry", headers=hx(client_a)).status_code == 404
    assert client_a.post(f"/sync/issues/nothing/{issue.id}/retry", headers=hx(client_a)).status_code == 404
    assert client_a.post(f"/sync/issues/stock/{issue.id}/retry", headers={"HX-Request": "true"}).status_code == 400
    db.session.expire_all()
    assert db.session.get(PullIssue, issue.id).attempts == 1
