"""The application factory: settings, extensions, blueprints, CLI and metrics."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from . import metrics
from .extensions import babel, csrf, db, htmx, migrate, select_locale
from .settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def build_app(config: dict | None = None) -> Flask:
    app = Flask(
        "wdtpanel",
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(Settings())
    if config:
        app.config.update(config)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories=str(ROOT / "translations"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from . import models  # noqa: F401  (registers the tables)
    from .cli import register_cli
    from .web import register_web

    register_web(app)
    register_cli(app)
    metrics.init_app(app)

    @app.after_request
    def frame_policy(response):
        response.headers["Content-Security-Policy"] = f"frame-ancestors {app.config['FRAME_ANCESTORS']}"
        response.vary.add("HX-Request")  # one URL serves the page and its fragment
        return response

    return app
