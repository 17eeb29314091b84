"""One URL serves a page and its fragment: an HTMX swap gets the partial; a browser, a boosted link, a history
restore or a request aimed at the whole body (id "wdtpanel": the frame's first page, HX-Location) gets the page.
`htmx_request()` is the one way to ask what HTMX sent."""

from __future__ import annotations

from typing import cast

from flask import render_template, request
from htmx_flask.requests import HtmxAwareRequest, HtmxHeaders


def htmx_request() -> HtmxHeaders:
    """What HTMX sent with this request (htmx-flask's `request.htmx`); false for a request HTMX did not make."""
    return cast(HtmxAwareRequest, request).htmx  # Htmx.init_app makes every request an HtmxAwareRequest


def wants_fragment() -> bool:
    htmx = htmx_request()
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request and htmx.target != "wdtpanel"


def page_or_fragment(page: str, fragment: str, **context) -> str:
    return render_template(fragment if wants_fragment() else page, **context)


def swaps(element_id: str) -> bool:
    """An HTMX swap aimed at the element `element_id` (a list's results, on a filter change)."""
    return wants_fragment() and htmx_request().target == element_id


def page_or_results(page_template: str, results_template: str, results_id: str, /, **context) -> str:
    """A list page, or only its results partial when HTMX swaps the results element."""
    return render_template(results_template if swaps(results_id) else page_template, **context)
