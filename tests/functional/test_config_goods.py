"""The goods parts of 旺店通配置: the mall's goods editor link, and the whole catalogue pushed when the link goes on."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import VALID, add_goods, field_errors, post_config
from wdtpanel.extensions import db, job_queue
from wdtpanel.models import AuditEntry, GoodsPushRun, Merchant, Spec


@pytest.mark.parametrize(
    "value,message",
    [
        ("javascript:alert(1)", "请填写以 http:// 或 https:// 开头的地址"),
        ("https://mall.example/goods/{id}/edit", "只能使用 {goods_id}、{spec_id}、{merchant_code} 这几个占位符"),
    ],
)
def test_a_bad_editor_link_is_refused(client_a, value, message):
    answer = post_config(client_a, {**VALID, "goods_editor_url": value})
    assert answer.status_code == 422 and message in field_errors(answer.get_data(as_text=True), "goods_editor_url")


def test_the_editor_link_is_saved_shown_and_audited(client_a):
    link = "https://mall.example/admin/goods/{goods_id}/edit?spec={spec_id}"
    assert post_config(client_a, {**VALID, "enabled": "", "goods_editor_url": link}).status_code == 200
    db.session.expire_all()
    assert db.session.get(Merchant, client_a.merchant.id).goods_editor_url == link
    assert link.replace("&", "&amp;") in client_a.get("/settings/wdt").get_data(as_text=True)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "wdt_config.update"))
    assert entry.details["goods_editor_url"] == [None, link]


def test_switching_the_link_on_pushes_the_whole_catalogue(client_a):
    add_goods(client_a.merchant, "G1", "保温杯", ("S1", "CUP-1"), ("S2", None))
    add_goods(client_a.merchant, "G2", "茶叶", code="TEA-1", push_state="pushed")
    assert post_config(client_a, {**VALID, "enabled": ""}).status_code == 200  # saved switched off: nothing
    assert db.session.scalar(select(GoodsPushRun)) is None
    answer = post_config(client_a, VALID).get_data(as_text=True)
    assert "正在把全部 3 个商品规格推送到旺店通" in answer
    run = db.session.scalar(select(GoodsPushRun))
    assert run.total == 3 and run.user_id is None
    db.session.expire_all()
    assert {spec.push_state for spec in db.session.scalars(select(Spec))} == {"pending"}
    assert [job.func_name for job in job_queue().get_jobs()] == ["wdtpanel.jobs.push_goods"]
    assert "正在把全部" not in post_config(client_a, VALID).get_data(as_text=True)  # already on: no new run
