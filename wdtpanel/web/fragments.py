"""One URL serves a page and its fragment: an HTMX swap gets the partial; a browser, a boosted link, a history
restore or a request aimed at the whole body (id "wdtpanel": the frame's first page, HX-Location) gets the page.
`request.htmx` (htmx-flask) is the one way to ask what HTMX sent."""

from __future__ import annotations

from flask import render_template, request


def wants_fragment() -> bool:
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request and htmx.target != "wdtpanel"


def page_or_fragment(page: str, fragment: str, **context) -> str:
    return render_template(fragment if wants_fragment() else page, **context)
