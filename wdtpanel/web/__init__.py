"""Blueprints, template helpers and error pages."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Flask, g, render_template
from flask_babel import get_locale, gettext

from ..reasons import REASONS, reason, render
from flask_wtf.csrf import CSRFError

from . import abnormal, api, auth, goods, status, wdt_config


def register_web(app: Flask) -> None:
    app.register_blueprint(auth.bp)
    app.register_blueprint(wdt_config.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(abnormal.bp)
    app.register_blueprint(goods.bp)
    app.register_blueprint(status.bp)
    app.before_request(auth.load_session_user)

    zone = ZoneInfo(app.config["TIMEZONE"])

    @app.template_filter("localtime")
    def localtime(value, fmt="%Y-%m-%d %H:%M:%S"):
        return "" if value is None else value.astimezone(zone).strftime(fmt)

    @app.template_filter("reason_label")
    def reason_label(code: str | None) -> str:
        return gettext(reason(code).label)

    @app.template_filter("reason_hint")
    def reason_hint(code: str | None) -> str:
        hint = REASONS[code].hint if code in REASONS else ""
        return gettext(hint) if hint else ""

    @app.template_filter("reason_text")
    def reason_text(code: str | None, params: dict | None = None) -> str:
        return render(code, params, gettext)

    @app.context_processor
    def session_user():
        return {"current_user": g.get("user"), "get_locale": get_locale}

    @app.errorhandler(CSRFError)
    def csrf_refused(error):
        return render_template("errors/refused.html", title="请求已失效 / Request expired",
                               message="表单已过期或缺少安全令牌，请刷新页面后重试。"
                                       " The form expired or lacks its security token: reload the page and try again."), 400

    @app.errorhandler(404)
    def not_found(error):
        return render_template("errors/refused.html", title="页面不存在 / Not found",
                               message="找不到该页面或记录。 The page or record was not found."), 404
