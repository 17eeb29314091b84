"""Error answers: a styled page for a browser, the same words as a banner fragment for HTMX, with the real status.

htmx's responseHandling (templates/base.html) swaps 4xx/5xx fragments into the page's #banner, except 409 and 422,
which are the target's own partial with the problem marked in it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .fragments import htmx_request, wants_fragment

ERRORS = {
    400: (_l("请求无效"), _l("请求的内容无效，请检查后重试。")),
    403: (_l("没有权限"), _l("你的账号没有权限打开这个页面或执行这个操作。旺店通配置只有管理员可以查看和修改。")),
    404: (_l("页面不存在"), _l("找不到该页面或记录。")),
    405: (_l("不支持的操作"), _l("该页面不支持这种请求方式。")),
    413: (_l("内容太大"), _l("提交的内容超过了允许的大小。")),
    500: (_l("服务器出错"), _l("服务器处理请求时出错，已记录下来。请稍后重试；如果一直出现，请联系技术支持。")),
}
PAGE_EXPIRED = (_l("页面已过期"), _l("页面上的安全令牌已失效（例如在别处退出又登录过）。请刷新页面后重试。"))
SESSION_GONE = (_l("登录已失效"), _l("登录已过期或已退出，请重新登录。"))
FRAME_SESSION_GONE = (_l("登录已失效"), _l("登录已过期或已退出，请回到商城后台重新打开本页面。"))


def error_response(status: int, title, message, *, reload: bool = False, headers: dict | None = None):
    """The error as a page, or as the banner fragment HTMX shows."""
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    return render_template(template, title=title, message=message, status=status, reload=reload), status, headers or {}


# A path on this site: one slash, then no slash or backslash, and nothing a browser would strip or a header refuse.
LOCAL_PATH = re.compile(r"/(?![/\\])[^\x00-\x20\x7f\\]*")


def local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: the only kind of `next` followed (no open redirect)."""
    if not target or len(target) > 2000 or not LOCAL_PATH.fullmatch(target):
        return None
    return target


def _return_path() -> str | None:
    """Where to come back to after signing in again: the page the user was on."""
    if request.method == "GET" and not wants_fragment():
        return local_path(request.full_path.rstrip("?"))
    try:
        current = urlsplit(htmx_request().current_url or "")
    except ValueError:  # a header no browser sends
        return None
    return local_path(current.path + (f"?{current.query}" if current.query else "")) if current.path else None


def session_gone():
    """No valid session: sign in again. Inside the mall's frame only the mall can sign the user in again."""
    if getattr(session, "in_frame", False):
        return error_response(401, *FRAME_SESSION_GONE)
    if htmx_request():
        login = url_for("auth.login", next=_return_path(), expired=1)
        return error_response(401, *SESSION_GONE, headers={"HX-Redirect": login})
    if request.headers.get("Sec-Fetch-Dest") == "iframe":  # a reload inside the frame: resume with its stored session
        return render_template(
            "auth/frame.html",
            next=_return_path(),
            frame_token=None,
            fallback=url_for("auth.login", next=_return_path()),
        ), 200
    return redirect(url_for("auth.login", next=_return_path()))


def register_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_refused(error):
        if g.get("user") is None:
            return session_gone()
        return error_response(400, *PAGE_EXPIRED, reload=True)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code not in ERRORS:
            return error
        return error_response(error.code, *ERRORS[error.code])

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):
        current_app.logger.error(
            "unhandled error on %s %s", request.method, request.path, exc_info=error.original_exception
        )
        return error_response(500, *ERRORS[500])
