"""Web and rq workers ready themselves as they boot: the templates compiled, what is loaded frozen out of the
collector's full passes."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from wdtpanel import gunicorn_conf

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process goes on as it was


def test_a_booting_web_worker_compiles_every_template_and_freezes_what_it_loaded(app, unfrozen):
    class Worker:  # what post_worker_init is given: gunicorn's worker, its app loaded
        wsgi = app

    app.jinja_env.cache.clear()
    gunicorn_conf.post_worker_init(Worker())
    compiled = {name for _loader, name in app.jinja_env.cache}
    assert compiled == {path.relative_to(TEMPLATES).as_posix() for path in TEMPLATES.rglob("*.html")}
    assert gc.get_freeze_count() > 10_000


def test_an_rq_worker_freezes_what_it_loaded_after_loading_the_app(monkeypatch, redis_url, unfrozen):
    from redis import Redis

    from wdtpanel import jobs
    from wdtpanel.worker import AppWorker

    frozen_when_loading = []
    monkeypatch.setattr(jobs, "preload_app", lambda: frozen_when_loading.append(gc.get_freeze_count()))
    AppWorker(["wdt"], connection=Redis.from_url(redis_url))
    assert frozen_when_loading == [0]
    assert gc.get_freeze_count() > 0


def test_a_template_that_does_not_compile_does_not_stop_the_worker(app, unfrozen, caplog):
    from jinja2 import ChoiceLoader, DictLoader

    from wdtpanel.web import compile_templates

    class Worker:
        wsgi = app

    loader = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader([DictLoader({"broken.html": "{% if %}"}), loader])
    try:
        gunicorn_conf.post_worker_init(Worker())
        assert compile_templates(app) == len(list(TEMPLATES.rglob("*.html")))
    finally:
        app.jinja_env.loader = loader
    assert "template broken.html does not compile" in caplog.text
    assert gc.get_freeze_count() > 0
