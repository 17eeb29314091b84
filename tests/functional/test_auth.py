"""Development login and the mall's one-time embed link."""
from __future__ import annotations

import time

from wdtpanel.security import make_embed_token
from tests.helpers import csrf_token_from


def test_login_with_cli_created_user(app, make_merchant):
    merchant, user = make_merchant("shop-a")
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    bad = client.post("/login", data={"merchant": "shop-a", "username": user.username, "password": "wrong",
                                      "csrf_token": token})
    assert "不正确" in bad.get_data(as_text=True)
    good = client.post("/login", data={"merchant": "shop-a", "username": user.username, "password": "pass-1234",
                                       "csrf_token": token})
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
    assert "角色" in app.test_client().get(f"/embed?token={make_embed_token('shop-a', 'u', 'root')}").get_data(as_text=True)


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
