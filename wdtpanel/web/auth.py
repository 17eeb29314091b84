"""Sign-in: the development login and the mall's one-time embed link."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..models import User
from ..security import EmbedTokenError, read_embed_token
from ..accounts import authenticate, sign_in_from_embed

bp = Blueprint("auth", __name__)

EMBED_REFUSALS = {
    "expired": "登录链接已过期，请回到商城后台重新打开本页面。 The sign-in link has expired: open this page again from the mall's admin.",
    "invalid": "登录链接无效（签名不正确）。 The sign-in link is not valid (bad signature).",
    "reused": "登录链接已使用过，每个链接只能使用一次。请回到商城后台重新打开。 This sign-in link was already used; open the page again from the mall's admin.",
    "unknown_merchant": "商户不存在或未开通。 The merchant in this link is not known here.",
    "bad_role": "登录链接中的角色无效。 The role in this link is not valid.",
}


class LoginForm(FlaskForm):
    merchant = StringField("商户编号", validators=[DataRequired(), Length(max=64)])
    username = StringField("用户名", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(), Length(max=128)])


def load_session_user() -> None:
    user_id = session.get("user_id")
    g.user = db.session.get(User, user_id) if user_id else None
    if g.user is not None and g.user.merchant_id != session.get("merchant_id"):
        session.clear()
        g.user = None


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            if request.headers.get("HX-Request"):
                return "", 401, {"HX-Redirect": url_for("auth.login")}
            return redirect(url_for("auth.login", next=request.path))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if g.user.role != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _local_path(target: str | None) -> str | None:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    return target if target and target.startswith("/") and not target.startswith("//") else None


def _home(user: User) -> str:
    """Admins land on the configuration, staff on the failed orders they work on."""
    return url_for("wdt_config.show") if user.role == "admin" else url_for("abnormal.index")


def _start_session(user: User) -> None:
    session.clear()
    session["user_id"] = user.id
    session["merchant_id"] = user.merchant_id


@bp.get("/")
@login_required
def index():
    return redirect(_home(g.user))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Development sign-in with a user created by `flask create-user`."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = authenticate(form.merchant.data, form.username.data, form.password.data)
        if user:
            _start_session(user)
            return redirect(_local_path(request.args.get("next")) or _home(user))
        error = "商户编号、用户名或密码不正确。 Merchant, username or password is wrong."
    return render_template("auth/login.html", form=form, error=error)


@bp.route("/embed")
def embed():
    """The mall's backend sends its user here with a short-lived signed link, used once."""
    try:
        claims = read_embed_token(request.args.get("token", ""))
        user = sign_in_from_embed(claims)
    except EmbedTokenError as exc:
        return render_template("errors/refused.html", title="无法登录 / Cannot sign in",
                               message=EMBED_REFUSALS[exc.reason]), 403
    _start_session(user)
    return redirect(_local_path(request.args.get("next")) or _home(user))


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def set_language(code: str):
    if code in ("zh", "en"):
        session["lang"] = code
    return redirect(_local_path(request.args.get("next")) or url_for("wdt_config.show"))
