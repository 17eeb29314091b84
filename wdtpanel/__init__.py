"""wdtpanel: links an online mall with the 旺店通 (WDT) ERP."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    """The panel's Flask app (see wdtpanel/app.py). The web stack is imported by the first call, not with the
    package, so the WDT client and the simulator load without it."""
    from .app import build_app

    return build_app(config)
