"""A gunicorn web worker compiles the templates as it boots, so the first page after a restart is not slower."""

from __future__ import annotations

from pathlib import Path

from wdtpanel import gunicorn_conf

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_a_booting_web_worker_compiles_every_template(app):
    class Worker:  # what post_worker_init is given: gunicorn's worker, its app loaded
        wsgi = app

    app.jinja_env.cache.clear()
    gunicorn_conf.post_worker_init(Worker())
    compiled = {name for _loader, name in app.jinja_env.cache}
    assert compiled == {path.relative_to(TEMPLATES).as_posix() for path in TEMPLATES.rglob("*.html")}
