"""Steps the browser tests share: signing in as a person does, or through the mall's embed link."""

from __future__ import annotations

from urllib.parse import quote

from wdtpanel.security import make_embed_token


def log_in(page, live_server, user, password: str = "pass-1234", path: str = "") -> None:
    """Through the login form, as a person signs in."""
    page.goto(f"{live_server}/login" + (f"?next={quote(path)}" if path else ""))
    page.get_by_label("商户编号").fill(user.merchant.code)
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def open_by_link(page, live_server, merchant_code: str, username: str = "clerk", role: str = "staff", path: str = ""):
    """As the mall's backend sends its user: a one-time embed link, opened in the tab."""
    token = make_embed_token(merchant_code, username, role)
    page.goto(f"{live_server}/embed?token={token}" + (f"&next={quote(path)}" if path else ""))
    page.wait_for_selector("main h1")
