"""Steps the browser tests share: signing in as a person does, orders in a given state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

from wdtpanel.extensions import db
from wdtpanel.models import Order, OrderLine
from wdtpanel.security import make_embed_token

BASE = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


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


def stored_order(
    merchant,
    number: int,
    state: str = "abnormal",
    reason: str | None = "unknown_merchant_code",
    params: dict | None = None,
    code: str | None = "SKU-1",
    order_no: str | None = None,
    buyer: str = "买家",
    **extra,
) -> Order:
    """An order written straight to the database (for pages that only read)."""
    order = Order(
        merchant_id=merchant.id,
        order_no=order_no or f"N{number:05d}",
        mall_status="paid",
        ordered_at=BASE + timedelta(hours=number),
        paid_at=BASE,
        mall_updated_at=BASE,
        buyer_nick=f"{buyer}{number}",
        paid_amount=Decimal("10.5"),
        sync_state=state,
        sync_reason=reason if state in ("abnormal", "pending", "unconfirmed") else None,
        sync_params=params if params is not None else {"detail": "编码不存在"},
        push_attempts=1,
        last_attempt_at=BASE,
        **extra,
    )
    order.lines.append(
        OrderLine(
            merchant_id=merchant.id,
            mall_line_id="L1",
            wdt_oid=f"{order.order_no}-L1",
            mall_goods_id="G1",
            mall_spec_id="S1",
            goods_name="保温杯",
            spec_name="红色",
            merchant_code=code,
            quantity=1,
            price=Decimal("10.5"),
        )
    )
    db.session.add(order)
    db.session.commit()
    return order
