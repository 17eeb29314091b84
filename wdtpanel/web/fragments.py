"""One URL serves a page and its fragment: an HTMX swap gets the partial; a browser, a boosted link or a history
restore gets the whole page. `request.htmx` (htmx-flask) is the one way to ask what HTMX sent."""
from __future__ import annotations

from flask import render_template, request


def wants_fragment() -> bool:
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


def page_or_fragment(page: str, fragment: str, **context) -> str:
    return render_template(fragment if wants_fragment() else page, **context)
