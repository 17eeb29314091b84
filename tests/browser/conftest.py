"""Headless Chromium (Debian's package) driven by Playwright, against the app served on localhost."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CHROMIUM = os.environ.get("WDTPANEL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "bench" / "out"
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def serve(app, host: str = "127.0.0.1"):
    server = make_server(host, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def live_server(app):
    """The app on a real port, in a thread; yields its base URL."""
    server, thread = serve(app)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


class MallAdmin:
    """The mall's admin backend on another site (127.0.0.2): a page that shows the panel in an iframe."""

    def __init__(self):
        self.frame_src = ""
        self.server, self.thread = serve(self.wsgi, "127.0.0.2")
        self.origin = f"http://127.0.0.2:{self.server.server_port}"

    def wsgi(self, environ, start_response):
        Request(environ)
        page = (
            f"<!doctype html><title>商城后台</title><h1>商城后台</h1>"
            f'<iframe id="panel" src="{self.frame_src}" style="width:1200px;height:760px;border:1px solid #999">'
            f"</iframe>"
        )
        return Response(page, mimetype="text/html")(environ, start_response)


@pytest.fixture
def mall_admin(app):
    """The mall's admin page on another site; the panel allows it as a frame ancestor."""
    admin = MallAdmin()
    app.config["FRAME_ANCESTORS"] = admin.origin
    yield admin
    admin.server.shutdown()
    admin.thread.join(5)


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def shot():
    """Keep a screenshot of the step under bench/out/ (gitignored) to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


def no_sideways_scroll(page) -> bool:
    # against the viewport asked for: a mobile browser widens window.innerWidth to content that overflows
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
