"""Flask-WTF forms. Labels are the manual's Chinese words; English comes through Flask-Babel."""

from __future__ import annotations

import re
from datetime import date
from functools import wraps

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

CODE_CHARS = Regexp(r"^[A-Za-z0-9_.\-]*$", message=_l("只能包含字母、数字、下划线、点和横线。"))
HTTP_URL = re.compile(r"^https?://[^\s/?#]+(/\S*)?$")
EDITOR_PLACEHOLDERS = {"goods_id", "spec_id", "merchant_code"}
NO_SPACES = Regexp(r"^\S*$", message=_l("不能包含空格。"))


def validate_fields(form: Form, names) -> bool:
    """Run the validators of some fields only (with the form's own validate_<name> checks)."""
    valid = True
    for name in names:
        inline = getattr(type(form), f"validate_{name}", None)
        valid = form[name].validate(form, [inline] if inline else []) and valid
    return valid


class EmptyForm(FlaskForm):
    """For POST buttons that carry only the CSRF token."""


def empty_form_required(view):
    """A view for such a button: 400 unless its EmptyForm validates. Goes below login_required (checked first)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not EmptyForm().validate_on_submit():
            abort(400)
        return view(*args, **kwargs)

    return wrapped


class LogisticsRowForm(Form):
    wdt_code = HiddenField(validators=[DataRequired(), Length(max=40)])
    wdt_name = HiddenField(validators=[Length(max=64)])
    selected = BooleanField(_l("使用"))
    mall_code = StringField(_l("商城物流编码"), validators=[Length(max=40), CODE_CHARS])

    def validate_mall_code(self, field):
        if self.selected.data and not (field.data or "").strip():
            raise ValidationError(_l("已勾选的物流公司需要填写商城物流编码。"))


class WdtConfigForm(FlaskForm):
    edition = SelectField(
        _l("旺店通版本"),
        choices=[("enterprise", _l("企业版")), ("ultimate", _l("旗舰版"))],
        validators=[DataRequired()],
    )
    environment = SelectField(
        _l("接口环境"),
        choices=[("production", _l("正式环境")), ("sandbox", _l("测试环境")), ("custom", _l("自定义地址"))],
        validators=[DataRequired()],
    )
    custom_base_url = StringField(_l("接口地址"), validators=[Length(max=256)])
    sid = StringField("sid", validators=[DataRequired(message=_l("请填写 sid。")), Length(max=64), CODE_CHARS])
    appkey = StringField("appkey", validators=[DataRequired(message=_l("请填写 appkey。")), Length(max=64), CODE_CHARS])
    appsecret = PasswordField("appsecret", validators=[Length(max=128), NO_SPACES])
    shop_no = StringField(
        _l("店铺编号"), validators=[DataRequired(message=_l("请填写店铺编号。")), Length(max=20), NO_SPACES]
    )
    warehouse_no = StringField(
        _l("仓库编号"), validators=[DataRequired(message=_l("请填写仓库编号。")), Length(max=40), NO_SPACES]
    )
    webhook_url = StringField(_l("商城回调地址"), validators=[Length(max=512)])
    goods_editor_url = StringField(_l("商城商品编辑地址"), validators=[Length(max=512)])
    enabled = BooleanField(_l("开启旺店通对接"))
    logistics = FieldList(FormField(LogisticsRowForm), min_entries=0, max_entries=200)

    def __init__(self, *args, secret_saved: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.secret_saved = secret_saved

    def validate_custom_base_url(self, field):
        if self.environment.data != "custom":
            return
        if not (field.data or "").strip():
            raise ValidationError(_l("选择自定义地址时请填写接口地址。"))
        if not HTTP_URL.match(field.data.strip()):
            raise ValidationError(_l("请填写以 http:// 或 https:// 开头的地址。"))

    def validate_webhook_url(self, field):
        if field.data and not HTTP_URL.match(field.data.strip()):
            raise ValidationError(_l("请填写以 http:// 或 https:// 开头的地址。"))

    def validate_goods_editor_url(self, field):
        value = (field.data or "").strip()
        if not value:
            return
        if not HTTP_URL.match(value):
            raise ValidationError(_l("请填写以 http:// 或 https:// 开头的地址。"))
        if set(re.findall(r"\{([^{}]*)\}", value)) - EDITOR_PLACEHOLDERS:
            raise ValidationError(_l("只能使用 {goods_id}、{spec_id}、{merchant_code} 这几个占位符。"))

    def validate_appsecret(self, field):
        if not field.data:
            if not self.secret_saved:
                raise ValidationError(_l("请填写 appsecret。"))
            return
        if self.edition.data == "ultimate":
            secret, _, salt = field.data.partition(":")
            if not secret or not salt:
                raise ValidationError(_l("旗舰版的 appsecret 格式为 secret:salt（冒号分隔）。"))


# Dates a filter may name: wide enough for any real order, narrow enough to move between time zones.
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2099, 12, 31)


def within_calendar(form: Form, field) -> None:
    if field.data and not FIRST_DATE <= field.data <= LAST_DATE:
        raise ValidationError(_l("请填写 %(first)s 至 %(last)s 之间的日期。", first=FIRST_DATE, last=LAST_DATE))


class AbnormalFilterForm(Form):
    """The list's filters, read from the URL (GET, so no CSRF)."""

    reason = SelectField(_l("原因"), validate_choice=False)
    date_from = DateField(_l("下单日期从"), validators=[Optional(), within_calendar])
    date_to = DateField(_l("至"), validators=[Optional(), within_calendar])
    q = StringField(_l("订单号或商家编码"), validators=[Optional(), Length(max=64)])
    cursor = HiddenField(validators=[Length(max=200)])
    before = HiddenField(validators=[Length(max=200)])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("结束日期早于开始日期。"))


class OrderLookupForm(Form):
    """全部订单's search, read from the URL."""

    q = StringField(_l("订单号或商家编码"), validators=[Optional(), Length(max=64)])
    state = SelectField(_l("状态"), validate_choice=False)
    cursor = HiddenField(validators=[Length(max=200)])


GOODS_CURSOR = Regexp(r"^[0-9]{1,18}-[0-9]{1,18}$")


class GoodsFilterForm(Form):
    """商品's filter and search, read from the URL."""

    problem = SelectField(_l("问题"), validate_choice=False)
    q = StringField(_l("商品名、规格或商家编码"), validators=[Optional(), Length(max=64)])
    cursor = HiddenField(validators=[Optional(), GOODS_CURSOR])
    before = HiddenField(validators=[Optional(), GOODS_CURSOR])
