"""旺店通异常订单: filters, search, keyset pages, the historical rule, tenant isolation, audit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.helpers import BASE, listed, stored_order
from wdtpanel.extensions import db
from wdtpanel.models import AuditEntry, Order
from wdtpanel.push.repush import start_bulk_repush
from wdtpanel.queries import abnormal
from wdtpanel.queries.lookup import PAGE_SIZE


def get(client, query: str = "", fragment=False):
    headers = {"HX-Request": "true", "HX-Target": "abnormal-results"} if fragment else {}
    return client.get(f"/abnormal/?{query}", headers=headers).get_data(as_text=True)


def test_newest_first_with_reason_counts(client_a):
    for number in range(3):
        stored_order(client_a.merchant, number)
    stored_order(client_a.merchant, 3, reason="missing_merchant_code")
    stored_order(client_a.merchant, 4, state="pushed")
    html = get(client_a)
    assert listed(html) == ["N00003", "N00002", "N00001", "N00000"]
    assert re.search(r'data-reason="unknown_merchant_code"[^>]*>商家编码在旺店通中不存在 <strong>3</strong>', html)
    assert re.search(r'data-reason="missing_merchant_code"[^>]*>缺少商家编码 <strong>1</strong>', html)


def test_filter_by_reason_and_date_range_live_in_the_url(client_a):
    stored_order(client_a.merchant, 1)
    stored_order(client_a.merchant, 30, reason="missing_merchant_code")  # 2026-11-02 16:00 Shanghai
    stored_order(client_a.merchant, 60)  # 2026-11-03 22:00 Shanghai
    assert listed(get(client_a, "reason=missing_merchant_code")) == ["N00030"]
    assert listed(get(client_a, "date_from=2026-11-02&date_to=2026-11-02")) == ["N00030"]
    assert listed(get(client_a, "date_from=2026-11-03")) == ["N00060"]
    assert listed(get(client_a, "date_to=2026-11-01")) == ["N00001"]
    assert listed(get(client_a, "date_from=not-a-date")) == ["N00060", "N00030", "N00001"]


def test_search_by_order_no_or_merchant_code(client_a):
    stored_order(client_a.merchant, 1, code="CUP-RED")
    stored_order(client_a.merchant, 2, code="TEA-01")
    assert listed(get(client_a, "q=N00002")) == ["N00002"]
    assert listed(get(client_a, "q=CUP-RED")) == ["N00001"]
    assert listed(get(client_a, "q=nothing")) == []


@pytest.mark.parametrize("total", [49, 50, 51, 101])
def test_keyset_pages_cover_every_row_once(client_a, total):
    for number in range(total):
        stored_order(client_a.merchant, number)
    seen, query, pages = [], "", 0
    while True:
        html = get(client_a, query, fragment=pages > 0)
        seen += listed(html)
        pages += 1
        match = re.search(r'class="next" href="[^"]*cursor=([^"&]+)', html)
        if not match:
            break
        query = f"cursor={match.group(1)}"
    assert len(seen) == total and len(set(seen)) == total
    assert pages == -(-total // PAGE_SIZE)


def test_rows_with_the_same_time_are_paged_by_id(client_a):
    same = BASE + timedelta(days=2)
    for number in range(55):
        stored_order(client_a.merchant, number, ordered_at=same)
    first = get(client_a)
    cursor = re.search(r'cursor=([^"&]+)', first).group(1)
    second = get(client_a, f"cursor={cursor}")
    assert len(set(listed(first)) | set(listed(second))) == 55


def test_fragment_is_the_results_partial_and_page_includes_it(client_a):
    stored_order(client_a.merchant, 1)
    fragment = get(client_a, fragment=True)
    page = get(client_a)
    assert fragment.lstrip().startswith('<div id="abnormal-results">') and "<html" not in fragment
    assert fragment.strip() in page


def test_historical_order_has_no_button_and_a_forged_repush_is_refused(client_a):
    order = stored_order(client_a.merchant, 1, state="historical")
    html = get(client_a)
    assert "历史订单不能重推" in html and "订单重推</button>" not in html
    response = client_a.post(f"/abnormal/orders/{order.id}/repush", headers={"X-CSRFToken": client_a.csrf})
    assert response.status_code == 409 and "历史订单不能重推" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Order, order.id).sync_state == "historical"


def test_repush_queues_and_is_audited(client_a):
    order = stored_order(client_a.merchant, 1)
    response = client_a.post(
        f"/abnormal/orders/{order.id}/repush", headers={"X-CSRFToken": client_a.csrf, "HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith(f'<tbody id="order-{order.id}"')
    assert "排队中" in html and 'hx-trigger="every 2s"' in html
    db.session.expire_all()
    assert db.session.get(Order, order.id).sync_state == "pending"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "order.repush"))
    assert entry.actor == client_a.user.username and entry.target == "N00001"


def test_repush_without_csrf_is_refused(client_a):
    order = stored_order(client_a.merchant, 1)
    assert client_a.post(f"/abnormal/orders/{order.id}/repush").status_code == 400
    db.session.expire_all()
    assert db.session.get(Order, order.id).sync_state == "abnormal"


def test_merchants_see_and_touch_only_their_orders(client_a, client_b):
    order_a = stored_order(client_a.merchant, 1)
    stored_order(client_b.merchant, 2)
    assert listed(get(client_b)) == ["N00002"]
    assert client_b.get(f"/abnormal/orders/{order_a.id}?expand=1").status_code == 404
    assert (
        client_b.post(f"/abnormal/orders/{order_a.id}/repush", headers={"X-CSRFToken": client_b.csrf}).status_code
        == 404
    )
    client_b.post(
        "/abnormal/bulk",
        data={"order_ids": [str(order_a.id)], "scope": "selected"},
        headers={"X-CSRFToken": client_b.csrf},
    )
    db.session.expire_all()
    assert db.session.get(Order, order_a.id).sync_state == "abnormal"


def test_expanded_row_shows_history_and_a_hint(client_a):
    order = stored_order(client_a.merchant, 1, reason="missing_merchant_code", code=None)
    html = client_a.get(f"/abnormal/orders/{order.id}?expand=1").get_data(as_text=True)
    assert "如何处理" in html and "填写商家编码" in html and "/goods/?q=S1" in html
    assert "还没有推送记录" in html


def test_bulk_repush_by_filter_skips_historical_and_reports_progress(client_a):
    for number in range(3):
        stored_order(client_a.merchant, number, reason="network")
    stored_order(client_a.merchant, 9, reason="missing_merchant_code")
    response = client_a.post(
        "/abnormal/bulk",
        data={"scope": "filter", "reason": "network"},
        headers={"X-CSRFToken": client_a.csrf, "HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert "0 / 3" in html and "<progress" in html
    db.session.expire_all()
    states = dict(db.session.execute(select(Order.order_no, Order.sync_state)).all())
    assert states == {"N00000": "pending", "N00001": "pending", "N00002": "pending", "N00009": "abnormal"}


def test_ids_that_do_not_fit_are_not_found_not_500(client_a):
    order = stored_order(client_a.merchant, 1)
    huge = "99999999999999999999999"
    assert client_a.get(f"/abnormal/orders/{huge}").status_code == 404
    assert client_a.post(f"/abnormal/orders/{huge}/repush", headers={"X-CSRFToken": client_a.csrf}).status_code == 404
    response = client_a.post(
        "/abnormal/bulk",
        data={"order_ids": ["²", huge, str(order.id)], "scope": "selected"},
        headers={"X-CSRFToken": client_a.csrf, "HX-Request": "true"},
    )
    assert response.status_code == 200 and "0 / 1" in response.get_data(as_text=True)


def test_bulk_rows_do_not_poll_and_the_bar_brings_the_ones_that_changed(client_a):
    orders = [stored_order(client_a.merchant, number) for number in range(3)]
    headers = {"X-CSRFToken": client_a.csrf, "HX-Request": "true"}
    started = client_a.post(
        "/abnormal/bulk", data={"scope": "selected", "order_ids": [str(o.id) for o in orders]}, headers=headers
    ).get_data(as_text=True)
    assert started.count('hx-swap-oob="true"') == 3 and 'hx-trigger="every 2s"' not in started
    assert started.count('name="waiting"') == 3
    poll_url = re.search(r'hx-get="(/abnormal/bulk/\d+)"', started).group(1)
    db.session.execute(db.update(Order).where(Order.id == orders[0].id).values(sync_state="pushed"))
    db.session.commit()
    polled = client_a.get(poll_url, query_string={"waiting": [str(o.id) for o in orders]}, headers=headers).get_data(
        as_text=True
    )
    assert polled.count('hx-swap-oob="true"') == 1 and f'id="order-{orders[0].id}"' in polled
    assert "data-leaves-after" in polled and "1 / 3" in polled


def test_an_empty_selection_is_refused_in_words(client_a):
    response = client_a.post(
        "/abnormal/bulk", data={"scope": "selected"}, headers={"X-CSRFToken": client_a.csrf, "HX-Request": "true"}
    )
    assert response.status_code == 422 and "请先勾选要重推的订单" in response.get_data(as_text=True)


def test_reason_counts_are_reused_for_a_few_seconds(client_a, app):
    from flask import current_app

    stored_order(client_a.merchant, 1, reason="network")
    current_app.config["COUNTS_CACHE_SECONDS"] = app.config["COUNTS_CACHE_SECONDS"] = 30
    assert abnormal.reason_counts(client_a.merchant.id) == {"network": 1}
    stored_order(client_a.merchant, 2, reason="network")
    assert abnormal.reason_counts(client_a.merchant.id) == {"network": 1}  # cached
    current_app.config["COUNTS_CACHE_SECONDS"] = 0
    assert abnormal.reason_counts(client_a.merchant.id) == {"network": 2}


def test_bulk_repush_takes_each_row_as_a_single_repush_would(client_a, make_merchant):
    rows = {
        state: stored_order(client_a.merchant, number, state=state)
        for number, state in enumerate(["abnormal", "unconfirmed", "pending", "pushed", "historical"])
    }
    changed = stored_order(client_a.merchant, 7, state="pushed")
    changed.pushed_version, changed.snapshot_version = 1, 2
    rows["pushed"].pushed_version = rows["pushed"].snapshot_version = 1
    other_merchant, _ = make_merchant("shop-b")
    foreign = stored_order(other_merchant, 8)
    db.session.commit()
    ids = [order.id for order in rows.values()] + [changed.id, foreign.id, rows["abnormal"].id]
    bulk, queued = start_bulk_repush(client_a.merchant.id, client_a.user, ids)
    db.session.commit()
    expected = [rows["abnormal"].id, rows["unconfirmed"].id, rows["pending"].id, changed.id]
    assert queued == expected and bulk.refused == 3  # pushed and unchanged, historical, another merchant's
    db.session.expire_all()
    states = dict(db.session.execute(select(Order.order_no, Order.sync_state)).all())
    assert states == {
        "N00000": "pending",
        "N00001": "pending",
        "N00002": "pending",
        "N00003": "pushed",
        "N00004": "historical",
        "N00007": "pending",
        "N00008": "abnormal",
    }


def test_an_unconfirmed_order_can_be_picked_and_repushed_like_a_failed_one(client_a):
    order = stored_order(client_a.merchant, 1, state="unconfirmed")
    html = client_a.get("/abnormal/").get_data(as_text=True)
    row = html[html.index(f'id="order-{order.id}"') :]
    row = row[: row.index("</tbody>")]
    assert 'name="order_ids"' in row and f"/abnormal/orders/{order.id}/repush" in row
    answer = client_a.post(
        f"/abnormal/orders/{order.id}/repush", headers={"X-CSRFToken": client_a.csrf, "HX-Request": "true"}
    )
    assert answer.status_code == 200
    db.session.expire_all()
    assert db.session.get(Order, order.id).sync_state == "pending"
