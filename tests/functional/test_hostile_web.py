"""Hostile input and stolen sessions on the pages: a clear 4xx, never a 500; no open redirect; sign-out ends every
copy of a session; password guessing is throttled and tells nothing about who exists."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.helpers import csrf_token_from, listed, stored_order
from wdtpanel import accounts
from wdtpanel.extensions import db
from wdtpanel.models import User
from wdtpanel.security import make_embed_token


@pytest.mark.parametrize(
    "query",
    [
        "date_from=0001-01-01",
        "date_to=9999-12-31",
        "date_from=9999-12-31&date_to=0001-01-01",
        "cursor=" + "A" * 5000,
        "before=MjAyNi0xMS0wMVQwMjowMDowMCswMDowMHw5OTk5OTk5OTk5OTk5OTk5OTk5OTk5",
        "cursor=MjAyNi0xMS0wMVQwMjowMDowMHw1",  # a naive time
        "q=" + "%25" * 30 + "_",
    ],
)
def test_odd_filters_answer_the_page_not_500(client_a, query):
    stored_order(client_a.merchant, 1)
    response = client_a.get(f"/abnormal/?{query}")
    assert response.status_code == 200
    assert client_a.get(f"/orders/?{query}").status_code == 200


def test_dates_out_of_range_and_a_reversed_range_say_so(client_a):
    stored_order(client_a.merchant, 1)
    html = client_a.get("/abnormal/?date_from=0001-01-01").get_data(as_text=True)
    assert "请填写 2000-01-01 至 2099-12-31 之间的日期" in html and listed(html) == ["N00001"]
    html = client_a.get("/abnormal/?date_from=2026-11-05&date_to=2026-11-01").get_data(as_text=True)
    assert "结束日期早于开始日期" in html


def test_an_order_dated_9999_does_not_break_the_list(client_a):
    stored_order(client_a.merchant, 1, state="historical", ordered_at=datetime(9999, 12, 31, 23, 0, tzinfo=UTC))
    for number in range(2, 60):
        stored_order(client_a.merchant, number)
    first = client_a.get("/abnormal/")
    assert first.status_code == 200 and "N00001" in first.get_data(as_text=True)
    assert client_a.get("/orders/?q=N00001").status_code == 200


@pytest.mark.parametrize("row_id", ["0", "2147483648", "9223372036854775808", "99999999999999999999999"])
@pytest.mark.parametrize(
    "path",
    [
        "/abnormal/bulk/{}",
        "/abnormal/orders/{}",
        "/orders/{}",
        "/goods/specs/{}",
        "/goods/push-all/{}",
        "/goods/fixed-orders/repush/{}",
    ],
)
def test_ids_no_row_can_have_are_not_found(client_a, path, row_id):
    assert client_a.get(path.format(row_id)).status_code == 404


def test_posts_naming_ids_no_row_can_have_are_not_found(client_a):
    headers = {"X-CSRFToken": client_a.csrf, "HX-Request": "true"}
    for path in (
        "/goods/specs/2147483648/push",
        "/abnormal/orders/2147483648/repush",
        "/sync/issues/stock/2147483648/retry",
    ):
        assert client_a.post(path, headers=headers).status_code == 404


@pytest.mark.parametrize(
    "target",
    ["/%09/evil.example", "//evil.example", "/\\evil.example", "http://evil.example", "/%0d%0aSet-Cookie:%20x=1"],
)
def test_next_never_leaves_the_site(app, make_merchant, target):
    _merchant, user = make_merchant("shop-a")
    client = app.test_client()
    landed = client.get(f"/lang/en?next={target}").headers["Location"]
    opened = client.get(f"/embed?token={make_embed_token('shop-a', 'u', 'staff')}&next={target}")
    frame_next = re.search(r'data-frame-next="([^"]*)"', opened.get_data(as_text=True)).group(1)
    assert (landed, frame_next) == ("/", "/abnormal/")
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    login = client.post(
        f"/login?next={target}",
        data={"merchant": "shop-a", "username": user.username, "password": "pass-1234", "csrf_token": token},
    )
    assert login.status_code == 302 and login.headers["Location"] in ("/settings/wdt",)


def test_sign_out_ends_every_copy_of_the_session(app, make_merchant):
    _merchant, user = make_merchant("shop-a")
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post(
        "/login", data={"merchant": "shop-a", "username": user.username, "password": "pass-1234", "csrf_token": token}
    )
    copied = client.get_cookie("session").value
    csrf = csrf_token_from(client.get("/abnormal/").get_data(as_text=True))
    client.post("/logout", headers={"X-CSRFToken": csrf})
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/abnormal/").status_code == 302
    assert thief.get("/abnormal/", headers={"HX-Request": "true"}).status_code == 401


def test_guessing_is_throttled_per_account(app, make_merchant):
    _merchant, user = make_merchant("shop-a")
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    form = {"merchant": "shop-a", "username": user.username, "csrf_token": token}
    for _ in range(30):
        client.post("/login", data={**form, "password": "wrong"})
    right = client.post("/login", data={**form, "password": "pass-1234"})
    assert right.status_code == 429 and "尝试次数过多" in right.get_data(as_text=True)
    other = app.test_client()
    other_token = csrf_token_from(other.get("/login").get_data(as_text=True))
    assert (
        other.post(
            "/login",
            data={**form, "csrf_token": other_token, "password": "pass-1234"},
            environ_base={"REMOTE_ADDR": "10.9.9.9"},
        ).status_code
        == 429
    )  # the account waits everywhere


def test_guessing_from_one_address_is_throttled_across_accounts(app, make_merchant):
    make_merchant("shop-a")
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    for number in range(accounts.ADDRESS_FAILURES):
        client.post(
            "/login", data={"merchant": "shop-a", "username": f"user{number}", "password": "x", "csrf_token": token}
        )
    blocked = client.post(
        "/login", data={"merchant": "shop-a", "username": "shop-a-admin", "password": "pass-1234", "csrf_token": token}
    )
    assert blocked.status_code == 429


def test_an_unknown_user_costs_one_password_check_like_a_known_one(app, make_merchant, monkeypatch):
    make_merchant("shop-a")
    checks = []
    real = accounts.check_password_hash
    monkeypatch.setattr(
        accounts, "check_password_hash", lambda stored, given: checks.append(stored) or real(stored, given)
    )
    accounts.authenticate("shop-a", "shop-a-admin", "wrong")
    accounts.authenticate("shop-a", "nobody", "wrong")
    accounts.authenticate("no-shop", "nobody", "wrong")
    assert len(checks) == 3
    assert len({stored.split("$")[0] for stored in checks}) == 1  # the same hashing method, so the same cost


def test_a_staff_link_does_not_demote_a_password_admin(app, make_merchant):
    merchant, admin = make_merchant("shop-a")
    client = app.test_client()
    client.get(f"/embed?token={make_embed_token('shop-a', admin.username, 'staff')}")
    db.session.expire_all()
    assert db.session.get(User, admin.id).role == "admin"
    mall_user = app.test_client()
    mall_user.get(f"/embed?token={make_embed_token('shop-a', 'clerk', 'admin')}")
    mall_user.get(f"/embed?token={make_embed_token('shop-a', 'clerk', 'staff')}")
    assert accounts.find_user(merchant.id, "clerk").role == "staff"  # links do set the role of link-made users


def test_sync_status_counts_only_this_merchants_work(client_a, client_b):
    order = stored_order(client_a.merchant, 1, state="pending")
    stored_order(client_a.merchant, 2)
    html_b = client_b.get("/sync/").get_data(as_text=True)
    assert "排队中 0，推送中 0，等待重试 0" in html_b
    html_a = client_a.get("/sync/").get_data(as_text=True)
    assert "排队中 1，推送中 0，等待重试 0" in html_a and order.order_no


def test_an_unreadable_current_url_without_a_session_is_sign_in_again_not_500(app):
    client = app.test_client()
    headers = {"HX-Request": "true", "HX-Current-URL": "http://[::1/"}
    assert client.post("/abnormal/bulk", headers=headers).status_code < 500
    assert client.get("/abnormal/", headers={**headers, "HX-Target": "abnormal-results"}).status_code < 500
