"""Development login and the mall's one-time embed link."""

from __future__ import annotations

import re
import time

from tests.helpers import csrf_token_from
from wdtpanel.security import make_embed_token


def test_login_with_cli_created_user(app, make_merchant):
    _merchant, user = make_merchant("shop-a")
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    bad = client.post(
        "/login", data={"merchant": "shop-a", "username": user.username, "password": "wrong", "csrf_token": token}
    )
    assert "不正确" in bad.get_data(as_text=True)
    good = client.post(
        "/login", data={"merchant": "shop-a", "username": user.username, "password": "pass-1234", "csrf_token": token}
    )
    assert good.status_code == 302 and good.headers["Location"].endswith("/settings/wdt")
    assert client.get("/settings/wdt").status_code == 200


def test_embed_link_signs_in_once(app, make_merchant):
    make_merchant("shop-a")
    token = make_embed_token("shop-a", "mall-user-7", "admin")
    client = app.test_client()
    first = client.get(f"/embed?token={token}")
    assert first.status_code == 200 and 'data-frame-next="/settings/wdt"' in first.get_data(as_text=True)
    page = client.get("/settings/wdt").get_data(as_text=True)
    assert "mall-user-7" in page
    again = app.test_client().get(f"/embed?token={token}")
    assert again.status_code == 403
    assert "已使用过" in again.get_data(as_text=True)


def test_forged_embed_link_is_refused(app, make_merchant):
    make_merchant("shop-a")
    token = make_embed_token("shop-a", "u", "admin")
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = app.test_client().get(f"/embed?token={forged}")
    assert response.status_code == 403 and "无效" in response.get_data(as_text=True)
    assert app.test_client().get("/embed").status_code == 403


def test_expired_embed_link_is_refused(app, make_merchant):
    make_merchant("shop-a")
    app.config["EMBED_TOKEN_MAX_AGE"] = 1
    token = make_embed_token("shop-a", "u", "admin")
    time.sleep(2.1)
    response = app.test_client().get(f"/embed?token={token}")
    assert response.status_code == 403 and "已过期" in response.get_data(as_text=True)


def test_embed_link_for_unknown_merchant_or_role(app, make_merchant):
    make_merchant("shop-a")
    assert "商户不存在" in app.test_client().get(f"/embed?token={make_embed_token('nope', 'u')}").get_data(as_text=True)
    assert "角色" in app.test_client().get(f"/embed?token={make_embed_token('shop-a', 'u', 'root')}").get_data(
        as_text=True
    )


def test_embedded_session_is_scoped_to_its_merchant(app, make_merchant):
    make_merchant("shop-a")
    make_merchant("shop-b")
    client = app.test_client()
    client.get(f"/embed?token={make_embed_token('shop-b', 'bob', 'admin')}")
    with client.session_transaction() as sess:
        merchant_id = sess["merchant_id"]
    from wdtpanel.accounts import find_merchant

    assert merchant_id == find_merchant("shop-b").id


def test_pages_allow_only_configured_frame_ancestors(app):
    response = app.test_client().get("/login")
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self'"


def frame_token_from(html: str) -> str:
    match = re.search(r'data-frame-token="([^"]+)"', html)
    assert match, "the embed page hands no session to the frame"
    return match.group(1)


def test_a_frame_without_cookies_works_with_its_session_header(app, make_merchant):
    """Inside a cross-site iframe the browser may keep no cookie: the session travels in a header instead."""
    make_merchant("shop-a")
    opened = app.test_client().get(f"/embed?token={make_embed_token('shop-a', 'clerk', 'staff')}&next=/abnormal/")
    frame = {
        "X-Wdtpanel-Frame": frame_token_from(opened.get_data(as_text=True)),
        "HX-Request": "true",
        "HX-Boosted": "true",
    }
    no_cookies = app.test_client(use_cookies=False)
    page = no_cookies.get("/abnormal/", headers=frame)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'hx-boost="true"' in html and "clerk" in html
    assert "Set-Cookie" not in page.headers
    pulled = no_cookies.post(
        "/sync/pull", headers={**frame, "HX-Boosted": "false", "X-CSRFToken": csrf_token_from(html)}
    )
    assert pulled.status_code == 200
    english = no_cookies.get("/lang/en?next=/sync/", headers=frame)
    assert english.headers["HX-Location"] == '{"path": "/sync/", "target": "body"}'
    frame["X-Wdtpanel-Frame"] = english.headers["X-Wdtpanel-Frame"]
    assert "Sync status" in no_cookies.get("/sync/", headers=frame).get_data(as_text=True)
    out = no_cookies.post("/logout", headers={**frame, "X-CSRFToken": csrf_token_from(html)})
    assert out.status_code == 200 and "已退出" in out.get_data(as_text=True)
    for token in (frame["X-Wdtpanel-Frame"], out.headers["X-Wdtpanel-Frame"]):  # the old session, and what came back
        gone = no_cookies.get("/abnormal/", headers={**frame, "X-Wdtpanel-Frame": token, "HX-Boosted": "false"})
        assert gone.status_code == 401 and "HX-Redirect" not in gone.headers  # only the mall can sign in again


def test_cross_site_session_cookie_is_partitioned(app, make_merchant):
    make_merchant("shop-a")
    app.config.update(SESSION_COOKIE_SAMESITE="None", SESSION_COOKIE_SECURE=True)
    opened = app.test_client().get(f"/embed?token={make_embed_token('shop-a', 'clerk', 'staff')}")
    cookie = opened.headers["Set-Cookie"]
    assert "SameSite=None" in cookie and "Secure" in cookie and "Partitioned" in cookie


def test_a_spent_link_opens_the_page_when_this_frame_is_its_user(app, make_merchant):
    make_merchant("shop-a")
    token = make_embed_token("shop-a", "clerk", "staff")
    client = app.test_client()
    client.get(f"/embed?token={token}")
    again = client.get(f"/embed?token={token}&next=/abnormal/%0d%0aX-Evil:%201")  # CR/LF in next: not followed
    assert again.status_code == 302 and again.headers["Location"] == "/abnormal/"
    other = app.test_client()
    other.get(f"/embed?token={make_embed_token('shop-a', 'someone-else', 'staff')}")
    refused = other.get(f"/embed?token={token}")
    assert refused.status_code == 403 and "已使用过" in refused.get_data(as_text=True)


def test_staff_menu_has_no_config_and_config_is_a_styled_403(app, make_merchant):
    make_merchant("shop-a")
    client = app.test_client()
    client.get(f"/embed?token={make_embed_token('shop-a', 'clerk', 'staff')}")
    page = client.get("/abnormal/").get_data(as_text=True)
    assert "/settings/wdt" not in page and "全部订单" in page
    refused = client.get("/settings/wdt")
    assert (
        refused.status_code == 403
        and "没有权限" in refused.get_data(as_text=True)
        and "<html" in refused.get_data(as_text=True)
    )
    fragment = client.get("/settings/wdt", headers={"HX-Request": "true"})
    assert fragment.status_code == 403 and fragment.get_data(as_text=True).lstrip().startswith(
        '<div class="alert alert-error error-banner"'
    )


def test_a_reload_inside_a_frame_without_a_cookie_resumes_with_the_frames_session(app, make_merchant):
    make_merchant("shop-a")
    reload = app.test_client(use_cookies=False).get("/abnormal/?q=N1", headers={"Sec-Fetch-Dest": "iframe"})
    html = reload.get_data(as_text=True)
    assert reload.status_code == 200 and 'data-frame-next="/abnormal/?q=N1"' in html
    assert 'data-frame-fallback="/login?next=/abnormal/?q%3DN1"' in html  # no stored session: sign in
    top = app.test_client(use_cookies=False).get("/abnormal/")
    assert top.status_code == 302 and top.headers["Location"] == "/login?next=/abnormal/"
