"""商品: counts and filters per problem, partial case-insensitive search, pages, 推送到旺店通 per row and for all,
the mall's editor link, tenant isolation."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from tests.helpers import BASE, add_goods, switch_on
from wdtpanel.extensions import db, job_queue
from wdtpanel.models import AuditEntry, Merchant, Order, OrderLine, Spec
from wdtpanel.queries.goods import PAGE_SIZE


def unknown_order(merchant, code: str) -> None:
    order = Order(
        merchant_id=merchant.id,
        order_no=f"U-{code}",
        mall_status="paid",
        ordered_at=BASE,
        paid_at=BASE,
        mall_updated_at=BASE,
        buyer_nick="b",
        sync_state="abnormal",
        sync_reason="unknown_merchant_code",
        sync_params={"detail": f"原始单号 U 的商家编码 {code} 在旺店通中不存在"},
    )
    order.lines += [
        OrderLine(
            merchant_id=merchant.id,
            mall_line_id="L1",
            wdt_oid=f"U-{code}-1",
            mall_goods_id="GX",
            goods_name="x",
            merchant_code=code,
            quantity=1,
            price=Decimal("1"),
        ),
        OrderLine(
            merchant_id=merchant.id,
            mall_line_id="L2",
            wdt_oid=f"U-{code}-2",
            mall_goods_id="GY",
            goods_name="y",
            merchant_code="FINE-1",
            quantity=1,
            price=Decimal("1"),
        ),
    ]
    db.session.add(order)
    db.session.commit()


def codes(html: str) -> list[str]:
    """The codes of the listed rows, in order ('-' for a row without one)."""
    rows = re.findall(r'<tbody id="spec-\d+".*?</tbody>', html, re.S)
    return [(re.search(r'class="code">\s*<code>([^<]*)</code>', row) or [None, "-"])[1] for row in rows]


def get(client, query: str = "", fragment: bool = False) -> str:
    headers = {"HX-Request": "true", "HX-Target": "goods-results"} if fragment else {}
    return client.get(f"/goods/?{query}", headers=headers).get_data(as_text=True)


def hx(client) -> dict:
    return {"X-CSRFToken": client.csrf, "HX-Request": "true"}


@pytest.fixture
def catalogue(client_a):
    merchant = client_a.merchant
    add_goods(merchant, "G1", "Thermos Cup 保温杯", ("S1", "CUP-RED"), ("S2", "cup-red"), ("S3", None))
    add_goods(
        merchant,
        "G2",
        "龙井 100%",
        code="TEA-1",
        push_state="failed",
        push_reason="field_refused",
        push_params={"detail": "goods_name长度不能超过255"},
    )
    add_goods(merchant, "G3", "帆布袋", code="BAG-9")
    unknown_order(merchant, "BAG-9")
    return client_a


def test_counts_and_filters_per_problem(catalogue):
    html = get(catalogue)
    counts = dict(re.findall(r'data-problem="(\w+)".*?<(?:strong|span class="n")>(\d+)<', html, re.S))
    assert counts == {"all": "5", "missing": "1", "unknown": "1", "duplicate": "2", "failed": "1"}
    assert codes(get(catalogue, "problem=missing")) == ["-"]
    assert codes(get(catalogue, "problem=duplicate")) == ["CUP-RED", "cup-red"]  # codes match in any case
    assert codes(get(catalogue, "problem=unknown")) == ["BAG-9"]  # named by WDT's refusal; FINE-1 is not blamed
    failed = get(catalogue, "problem=failed")
    assert codes(failed) == ["TEA-1"] and "goods_name长度不能超过255" in failed
    assert codes(get(catalogue, "problem=nonsense")) == ["CUP-RED", "cup-red", "-", "TEA-1", "BAG-9"]


def test_search_is_partial_and_ignores_case_on_names_and_codes(catalogue):
    assert codes(get(catalogue, "q=thermos")) == ["CUP-RED", "cup-red", "-"]
    assert codes(get(catalogue, "q=Cup-R")) == ["CUP-RED", "cup-red"]
    assert codes(get(catalogue, "q=bag")) == ["BAG-9"]
    assert codes(get(catalogue, "q=100%")) == ["TEA-1"] and codes(get(catalogue, "q=%25_")) == []  # literal
    assert codes(get(catalogue, "q=cup&problem=missing")) == ["-"]
    fragment = get(catalogue, "q=bag", fragment=True)
    assert fragment.lstrip().startswith('<div id="goods-results"') and "<html" not in fragment


def test_pages_go_forward_and_back(client_a):
    for number in range(PAGE_SIZE + 5):
        add_goods(client_a.merchant, f"G{number:03d}", f"商品{number}", code=f"C{number:03d}")
    first = get(client_a)
    assert len(codes(first)) == PAGE_SIZE and codes(first)[0] == "C000"
    after = re.search(r'class="next" href="[^"]*cursor=([0-9-]+)', first)[1]
    second = get(client_a, f"cursor={after}")
    assert codes(second) == [f"C{number:03d}" for number in range(PAGE_SIZE, PAGE_SIZE + 5)]
    before = re.search(r'class="prev" href="[^"]*before=([0-9-]+)', second)[1]
    assert codes(get(client_a, f"before={before}")) == codes(first)
    assert codes(get(client_a, "cursor=nonsense")) == codes(first)


def test_the_mall_editor_link_carries_the_sku(catalogue):
    assert "去商城修改" not in get(catalogue)
    merchant = db.session.get(Merchant, catalogue.merchant.id)
    merchant.goods_editor_url = "https://mall.example/admin/goods/{goods_id}/edit?spec={spec_id}&code={merchant_code}"
    db.session.commit()
    links = re.findall(r'<a class="edit" href="([^"]+)" target="_blank" rel="noopener">', get(catalogue, "q=龙井"))
    assert links == ["https://mall.example/admin/goods/G2/edit?spec=&amp;code=TEA-1"]
    add_goods(catalogue.merchant, "G/7", "斜杠", code="A&B")
    assert re.findall(r'<a class="edit" href="([^"]+)"', get(catalogue, "q=斜杠")) == [
        "https://mall.example/admin/goods/G%2F7/edit?spec=&amp;code=A%26B"
    ]


def test_push_one_is_refused_with_the_reason_while_switched_off_or_without_code(catalogue):
    spec = db.session.scalar(select(Spec).where(Spec.merchant_code == "TEA-1"))
    answer = catalogue.post(f"/goods/specs/{spec.id}/push", headers=hx(catalogue))
    assert answer.status_code == 409 and "旺店通对接未开启" in answer.get_data(as_text=True)
    switch_on(catalogue.merchant)
    blank = db.session.scalar(select(Spec).where(Spec.mall_spec_id == "S3"))
    answer = catalogue.post(f"/goods/specs/{blank.id}/push", headers=hx(catalogue))
    assert answer.status_code == 409 and "缺少商家编码，不能推送" in answer.get_data(as_text=True)
    assert catalogue.post(f"/goods/specs/{spec.id}/push", headers={"HX-Request": "true"}).status_code == 400


def test_push_one_queues_the_push_and_the_row_waits_for_it(catalogue):
    switch_on(catalogue.merchant)
    spec = db.session.scalar(select(Spec).where(Spec.merchant_code == "TEA-1"))
    answer = catalogue.post(f"/goods/specs/{spec.id}/push", headers=hx(catalogue)).get_data(as_text=True)
    assert answer.lstrip().startswith(f'<tbody id="spec-{spec.id}"') and "等待推送" in answer
    assert f'hx-get="/goods/specs/{spec.id}" hx-trigger="every 2s"' in answer
    db.session.expire_all()
    assert db.session.get(Spec, spec.id).push_state == "pending"
    assert [job.func_name for job in job_queue().get_jobs()] == ["wdtpanel.jobs.push_goods"]
    assert db.session.scalar(select(AuditEntry.target).where(AuditEntry.action == "goods.push")) == "TEA-1"


def test_push_all_shows_progress_until_every_sku_has_an_outcome(catalogue):
    refused = catalogue.post("/goods/push-all", headers=hx(catalogue))
    assert refused.status_code == 422 and "旺店通对接未开启" in refused.get_data(as_text=True)
    switch_on(catalogue.merchant)
    started = catalogue.post("/goods/push-all", headers=hx(catalogue))
    html = started.get_data(as_text=True)
    assert started.status_code == 200 and "0 / 5" in html and 'hx-trigger="every 1s"' in html
    assert started.headers["HX-Trigger"] == "goods-push-changed"  # every row now waits: the list refreshes
    poll = re.search(r'hx-get="(/goods/push-all/\d+)"', html)[1]
    db.session.execute(update(Spec).where(Spec.merchant_code.is_distinct_from("TEA-1")).values(push_state="pushed"))
    db.session.commit()
    polled = catalogue.get(poll, headers={"HX-Request": "true"})
    assert "4 / 5" in polled.get_data(as_text=True) and "HX-Trigger" not in polled.headers
    db.session.execute(update(Spec).where(Spec.merchant_code == "TEA-1").values(push_state="failed"))
    db.session.commit()
    done = catalogue.get(poll, headers={"HX-Request": "true"})
    assert (
        "推送完成：成功 4，失败 1" in done.get_data(as_text=True) and done.headers["HX-Trigger"] == "goods-push-changed"
    )
    assert "every 1s" not in done.get_data(as_text=True)


def test_another_merchant_sees_nothing_and_touches_nothing(catalogue, client_b):
    spec = db.session.scalar(select(Spec).where(Spec.merchant_code == "TEA-1"))
    assert codes(get(client_b)) == [] and "TEA-1" not in get(client_b, "q=TEA")
    assert client_b.get(f"/goods/specs/{spec.id}").status_code == 404
    assert client_b.post(f"/goods/specs/{spec.id}/push", headers=hx(client_b)).status_code == 404
    run = catalogue.post("/goods/push-all", headers=hx(catalogue))
    assert run.status_code == 422  # switched off: no run
    switch_on(catalogue.merchant)
    poll = re.search(
        r'hx-get="(/goods/push-all/\d+)"',
        catalogue.post("/goods/push-all", headers=hx(catalogue)).get_data(as_text=True),
    )[1]
    assert client_b.get(poll).status_code == 404
    assert "BAG-9" not in client_b.get("/goods/fixed-orders").get_data(as_text=True)
