"""Pooled connections: one idle for a while is tested before use, and a dead one is replaced, not handed out."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DisconnectionError

from wdtpanel import extensions
from wdtpanel.extensions import db


class DeadConnection:
    def cursor(self):
        raise OSError("server closed the connection unexpectedly")


class Record:
    def __init__(self, idle_since: float | None):
        self.info = {} if idle_since is None else {"checked_in": idle_since}


def test_an_idle_dead_connection_is_refused_so_the_pool_opens_another():
    with pytest.raises(DisconnectionError):
        extensions.ping_if_idle(DeadConnection(), Record(idle_since=0.0), None)


def test_a_connection_used_moments_ago_is_not_pinged():
    import time

    extensions.ping_if_idle(DeadConnection(), Record(idle_since=time.monotonic()), None)  # no round trip, no error


def test_a_connection_just_opened_is_not_pinged():
    extensions.ping_if_idle(DeadConnection(), Record(idle_since=None), None)


@pytest.mark.skipif(
    not os.environ.get("WDTPANEL_TEST_DATABASE_URL"),
    reason="a server that drops connections: the suite's PostgreSQL pass runs it",
)
def test_the_pool_replaces_a_connection_the_server_dropped_while_idle(app, monkeypatch):
    monkeypatch.setattr(extensions, "PING_AFTER_IDLE_SECONDS", 0)
    with db.engine.connect() as connection:
        dropped = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(db.engine.url)
    with admin.connect() as connection:  # the database restarts, as far as that connection knows
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
    admin.dispose()
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != dropped


@pytest.mark.skipif(
    not os.environ.get("WDTPANEL_TEST_DATABASE_URL"), reason="a transaction left open by the ping: PostgreSQL only"
)
def test_a_pinged_connection_is_handed_out_with_no_transaction_open(app, monkeypatch):
    """A new order is created by one statement on an autocommit connection; psycopg refuses to switch one with a
    transaction open, and the ping's SELECT opened one."""
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    monkeypatch.setattr(extensions, "PING_AFTER_IDLE_SECONDS", 0)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
