"""设置 → 系统配置 → 旺店通配置: the merchant's WDT configuration page."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request, url_for
from flask_babel import gettext as _

from ..extensions import db
from ..jobs import leave_to_sweeper_if_down, request_goods_push, send_waiting_webhooks
from ..merchant_config import (
    ConfigError,
    ConfigInput,
    LogisticsChoice,
    check_connection,
    load_config,
    masked_appsecret,
    save_config,
)
from ..push import goods as goods_push
from .auth import admin_required
from .forms import WdtConfigForm, validate_fields
from .fragments import page_or_fragment

bp = Blueprint("wdt_config", __name__, url_prefix="/settings")


def _form_for(config, data=None) -> WdtConfigForm:
    saved = config is not None and bool(config.appsecret_encrypted)
    form = WdtConfigForm(formdata=data, obj=None if data else config, secret_saved=saved)
    if data is None:
        form.webhook_url.data = g.user.merchant.webhook_url
        form.goods_editor_url.data = g.user.merchant.goods_editor_url
        known = {c["code"]: c["name"] for c in (config.known_logistics or [])} if config else {}
        chosen = {m.wdt_code: (m.wdt_name, m.mall_code) for m in config.logistics} if config else {}
        _fill_logistics_rows(form, known, chosen)
    return form


def _fill_logistics_rows(form: WdtConfigForm, known: dict[str, str], chosen: dict[str, tuple[str, str]]) -> None:
    """One row per company WDT listed or already chosen; chosen ones ticked with their mall code."""
    rows = {**known, **{code: known.get(code) or name for code, (name, _) in chosen.items()}}
    while len(form.logistics):
        form.logistics.pop_entry()
    for code, name in sorted(rows.items()):
        form.logistics.append_entry(
            {
                "wdt_code": code,
                "wdt_name": name,
                "selected": code in chosen,
                "mall_code": chosen[code][1] if code in chosen else "",
            }
        )


def _render(form: WdtConfigForm, config, message=None, status=200, connection=None, secret_kept=True):
    """The form; `secret_kept`: the appsecret the user typed stays in the page across the swap (it is never sent
    back), except after a save, when it is stored and the field empties."""
    context = {
        "form": form,
        "masked_secret": masked_appsecret(config),
        "config": config,
        "message": message,
        "inline_url": _inline_url(),
        "connection": connection,
        "secret_kept": secret_kept,
    }
    return page_or_fragment("wdt_config/wdt_config.html", "wdt_config/_wdt_config_form.html", **context), status


def _input_from(form: WdtConfigForm) -> ConfigInput:
    return ConfigInput(
        edition=form.edition.data,
        environment=form.environment.data,
        custom_base_url=(form.custom_base_url.data or "").strip() or None,
        sid=form.sid.data.strip(),
        appkey=form.appkey.data.strip(),
        appsecret=form.appsecret.data or None,
        shop_no=form.shop_no.data.strip(),
        warehouse_no=form.warehouse_no.data.strip(),
        enabled=form.enabled.data,
        webhook_url=(form.webhook_url.data or "").strip() or None,
        goods_editor_url=(form.goods_editor_url.data or "").strip() or None,
        logistics=list(
            {
                row.wdt_code.data: LogisticsChoice(
                    row.wdt_code.data, row.wdt_name.data or "", (row.mall_code.data or "").strip()
                )
                for row in form.logistics
                if row.selected.data
            }.values()
        ),  # one row per WDT code
        known_logistics=[{"code": row.wdt_code.data, "name": row.wdt_name.data or ""} for row in form.logistics],
    )


@bp.get("/wdt")
@admin_required
def show():
    """Show the merchant's WDT configuration."""
    config = load_config(g.user.merchant_id)
    return _render(_form_for(config), config, secret_kept=False)


@bp.post("/wdt")
@admin_required
def save():
    """Save the configuration; HTMX gets the form fragment back with the outcome."""
    config = load_config(g.user.merchant_id)
    form = _form_for(config, request.form)
    if not form.validate():
        return _render(form, config, ("error", _("保存失败：请按提示修改标红的字段。")), 422)
    was_enabled, previous_url = bool(config and config.enabled), g.user.merchant.webhook_url
    try:
        config = save_config(g.user.merchant_id, g.user, _input_from(form))
        db.session.commit()
    except ConfigError as exc:
        getattr(form, exc.field_name).errors.append(exc.message)
        return _render(form, config, ("error", _("保存失败：请按提示修改标红的字段。")), 422)
    message = _("已保存旺店通配置。")
    if form.webhook_url.data and form.webhook_url.data != previous_url:
        send_waiting_webhooks(g.user.merchant_id)
    if config.enabled and not was_enabled:
        message += " " + _push_catalogue()
    return _render(_form_for(config), config, ("success", message), secret_kept=False)


def _push_catalogue() -> str:
    """The integration was just switched on: the whole catalogue goes to WDT (the 商品 page shows its progress)."""
    try:
        run = goods_push.start_catalogue_push(g.user.merchant_id, None)
    except goods_push.GoodsPushRefused:
        return ""  # no goods yet: each will be pushed as it arrives
    db.session.commit()
    leave_to_sweeper_if_down(lambda: request_goods_push(g.user.merchant_id), "the goods push")
    return _("正在把全部 %(n)s 个商品规格推送到旺店通，进度见 商品 页。", n=run.total)


CONNECTION_FIELDS = (
    "edition",
    "environment",
    "custom_base_url",
    "sid",
    "appkey",
    "appsecret",
    "shop_no",
    "warehouse_no",
)


@bp.post("/wdt/test")
@admin_required
def test_connection():
    """测试连接: sign real calls with the entered values; list WDT's logistics companies to map."""
    config = load_config(g.user.merchant_id)
    form = _form_for(config, request.form)
    if not validate_fields(form, CONNECTION_FIELDS):
        return _render(form, config, ("error", _("请先改正标红的字段，再测试连接。")), 422)
    data = _input_from(form)
    report = check_connection(config, data)
    if report.credentials.ok:
        known = {c.code: c.name for c in report.logistics}
        chosen = {choice.wdt_code: (choice.wdt_name, choice.mall_code) for choice in data.logistics}
        _fill_logistics_rows(form, known, chosen)
    return _render(form, config, connection=report)


@bp.post("/wdt/validate/<field_name>")
@admin_required
def validate_field(field_name: str):
    """Inline validation as the user leaves a field: the field's partial with its errors."""
    config = load_config(g.user.merchant_id)
    form = _form_for(config, request.form)
    field = form._fields.get(field_name)
    if field is None or field_name in ("csrf_token", "logistics"):
        abort(404)
    valid = validate_fields(form, [field_name])
    return render_template(
        "wdt_config/_field.html",
        field=field,
        masked_secret=masked_appsecret(config),
        inline_url=_inline_url(),
        secret_kept=True,
    ), 200 if valid else 422


def _inline_url() -> str:
    return url_for("wdt_config.validate_field", field_name="")
