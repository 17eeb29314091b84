"""Blueprints, the session, template helpers and error answers."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, g
from flask_babel import get_locale, gettext
from jinja2 import TemplateError
from markupsafe import Markup, escape
from werkzeug.routing import IntegerConverter

from ..queries.orders import MAX_ROW_ID
from ..reasons import REASONS, reason, render
from ..security import PanelSessionInterface
from ..wdt.payloads import wdt_time
from . import abnormal, api, auth, goods, lookup, status, wdt_config
from .errors import register_errors

log = logging.getLogger(__name__)

# Times as the push payload stores them (UTC, str(datetime)); WDT got them as Beijing time.
STORED_UTC_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00")


class RowIdConverter(IntegerConverter):
    """`<row_id:name>`: a row id in a URL; one no row can have (0, too large for the column) is a 404."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ROW_ID)


def register_web(app: Flask) -> None:
    app.session_interface = PanelSessionInterface()
    app.url_map.converters["row_id"] = RowIdConverter
    for blueprint in (auth.bp, wdt_config.bp, api.bp, abnormal.bp, lookup.bp, goods.bp, status.bp):
        app.register_blueprint(blueprint)
    # Who is asking comes before whether the form is genuine: a CSRF failure without a session is "sign in again".
    app.before_request_funcs.setdefault(None, []).insert(0, auth.load_session_user)
    register_errors(app)
    register_filters(app)

    @app.context_processor
    def session_user():
        return {"current_user": g.get("user"), "in_frame": g.get("in_frame", False), "get_locale": get_locale}

    @app.after_request
    def referrer_policy(response):
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def compile_templates(app: Flask) -> int:
    """Compile every template now, as a gunicorn worker boots (gunicorn_conf.post_worker_init): else the first page
    a merchant opens after a restart waits 70–100 ms for Jinja to compile it. A template that does not compile is
    logged and left to fail on its own page: it must not stop the worker, and with it the mall's order API.
    Returns how many compiled."""
    compiled = 0
    for name in app.jinja_env.list_templates(extensions=["html"]):
        try:
            app.jinja_env.get_template(name)
            compiled += 1
        except TemplateError:
            log.exception("template %s does not compile", name)
    return compiled


def register_filters(app: Flask) -> None:
    zone = ZoneInfo(app.config["TIMEZONE"])

    @app.template_filter("localtime")
    def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
        if value is None:
            return ""
        try:
            return value.astimezone(zone).strftime(fmt)
        except OverflowError:  # a date at the edge of the calendar (9999-12-31) cannot move to the local zone
            return value.strftime(fmt) + " UTC"

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

    @app.template_filter("sent_payload")
    def sent_payload(payload: dict) -> Markup:
        """A sent trade as WDT read it: characters as they are, times in Beijing time."""

        def as_sent(value):
            if isinstance(value, str) and STORED_UTC_TIME.fullmatch(value):
                try:
                    return wdt_time(datetime.fromisoformat(value))
                except OverflowError:
                    return value
            if isinstance(value, list):
                return [as_sent(item) for item in value]
            if isinstance(value, dict):
                return {key: as_sent(item) for key, item in value.items()}
            return value

        return escape(json.dumps(as_sent(payload), ensure_ascii=False, indent=2))
