"""One URL serves a page and its fragment: HTMX gets the partial, a browser (or a history restore) the page."""
from __future__ import annotations

from flask import render_template, request


def wants_fragment() -> bool:
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def page_or_fragment(page: str, fragment: str, **context) -> str:
    return render_template(fragment if wants_fragment() else page, **context)
