"""Sign-in: the password login and the mall's one-time embed link; who is signed in; sign-out everywhere."""

from __future__ import annotations

from functools import wraps
from typing import cast

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from htmx_flask import make_response as htmx_response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from .. import accounts
from ..extensions import db
from ..models import User
from ..security import EmbedTokenError, PanelSessionInterface, read_embed_token
from .errors import error_response, local_path, session_gone
from .fragments import htmx_request

bp = Blueprint("auth", __name__)

EMBED_REFUSALS = {
    "expired": _l("登录链接已过期，请回到商城后台重新打开本页面。"),
    "invalid": _l("登录链接无效（签名不正确）。"),
    "reused": _l("登录链接已使用过，每个链接只能使用一次。请回到商城后台重新打开本页面。"),
    "unknown_merchant": _l("商户不存在或未开通。"),
    "bad_role": _l("登录链接中的角色无效。"),
}


class LoginForm(FlaskForm):
    merchant = StringField(_l("商户编号"), validators=[DataRequired(), Length(max=64)])
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=128)])


def load_session_user() -> None:
    """Who is signed in: the session's user, unless that session was ended (sign-out) or belongs elsewhere."""
    g.user = accounts.session_user(session.get("user_id"), session.get("merchant_id"), session.get("sv"))
    if g.user is None and "user_id" in session:
        session.clear()
    g.in_frame = g.user is not None and getattr(session, "in_frame", False)


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            return session_gone()
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


def home_of(user: User) -> str:
    """Admins land on the configuration, staff on the failed orders they work on."""
    return url_for("wdt_config.show") if user.role == "admin" else url_for("abnormal.index")


def _start_session(user: User) -> None:
    lang = session.get("lang")
    session.clear()
    session.update(user_id=user.id, merchant_id=user.merchant_id, sv=user.session_version)
    if lang:
        session["lang"] = lang
    generate_csrf()  # the CSRF secret is part of the session before the frame takes its copy


@bp.get("/")
@login_required
def index():
    return redirect(home_of(g.user))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign-in with a user created by `flask create-user`; throttled per account and per address."""
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        merchant, username, address = form.merchant.data, form.username.data, request.remote_addr or ""
        wait = accounts.login_wait(merchant, username, address)
        user = None if wait else accounts.authenticate(merchant, username, form.password.data)
        if user:
            accounts.clear_login_failures(merchant, username)
            _start_session(user)
            return redirect(local_path(request.args.get("next")) or home_of(user))
        if wait:
            error, status = _("尝试次数过多，请 %(minutes)s 分钟后再试。", minutes=-(-wait // 60)), 429
        else:
            accounts.record_login_failure(merchant, username, address)
            error = _("商户编号、用户名或密码不正确。")
    notice = _("登录已过期或已退出，请重新登录。") if request.args.get("expired") else None
    return render_template("auth/login.html", form=form, error=error, notice=notice), status


@bp.route("/embed")
def embed():
    """The mall's backend sends its user here with a short-lived signed link, used once. The page that answers
    hands the new session to the frame (for when no cookie reaches the panel), then opens the landing page."""
    target = local_path(request.args.get("next"))
    try:
        user = accounts.sign_in_from_embed(read_embed_token(request.args.get("token", "")))
    except EmbedTokenError as exc:
        return _spent_link(exc, target)
    db.session.commit()
    _start_session(user)
    interface = cast(PanelSessionInterface, current_app.session_interface)  # installed by register_web
    token = interface.frame_token(current_app, session)
    return render_template("auth/frame.html", next=target or home_of(user), frame_token=token, fallback=None)


def _spent_link(exc: EmbedTokenError, target: str | None):
    """A link used already (a reload of the mall's page) or expired: fine if this frame is signed in as its user."""
    refusal = EMBED_REFUSALS[exc.reason]
    if exc.claims is None:
        return error_response(403, _("无法登录"), refusal)
    if accounts.is_user_of(g.user, exc.claims):
        return redirect(target or home_of(g.user))
    if htmx_request():  # the frame's own try with its stored session did not match
        return error_response(403, _("无法登录"), refusal)
    return render_template(
        "auth/frame.html", next=request.full_path, frame_token=None, fallback=None, refusal=refusal
    ), 403


@bp.post("/logout")
def logout():
    """Sign out everywhere: this session and every copy of it (other tabs, a copied cookie) stop working."""
    in_frame = g.get("in_frame")
    if g.user is not None:
        accounts.end_sessions(g.user)
        db.session.commit()
    session.clear()
    if in_frame:
        return render_template("auth/signed_out.html")
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    target = local_path(request.args.get("next")) or url_for("auth.index")
    if htmx_request():  # inside the frame: the changed session travels back in a header, then HTMX opens the page
        return htmx_response("", location={"path": target, "target": "body"})
    return redirect(target)


@bp.get("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"), 301)
