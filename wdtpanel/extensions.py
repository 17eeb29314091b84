"""Flask extensions and the Redis/RQ handles, created once and bound in create_app()."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, ClassVar, cast

from flask import current_app, g, session
from flask_babel import Babel
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue
from sqlalchemy import BindParameter, MetaData, Table, bindparam, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

# Named constraints so Alembic migrations are stable on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))

if TYPE_CHECKING:
    from flask_sqlalchemy.model import Model as FlaskModel
    from sqlalchemy import Table
    from sqlalchemy.orm import DeclarativeBase

    class Model(FlaskModel, DeclarativeBase):
        """db.Model as mypy sees it (it cannot take a base class from an attribute): a declarative base with
        Flask-SQLAlchemy's Model mixed in, which is what db.Model is at runtime. Every model maps a table."""

        __table__: ClassVar[Table]

else:
    Model = db.Model

LOCK_WAIT_MS = 20_000  # the longest a write waits for another's lock: SQLite's busy_timeout, PostgreSQL's where set


@event.listens_for(Engine, "connect")
def sqlite_pragmas(dbapi_connection, _record) -> None:
    """Every SQLite connection: a writer waits for the one holding the lock instead of failing at once, and
    WAL lets readers go on beside a writer. (PostgreSQL needs neither.)"""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()


PING_AFTER_IDLE_SECONDS = 10


@event.listens_for(Engine, "checkin")
def note_checkin(_dbapi_connection, record) -> None:
    record.info["checked_in"] = time.monotonic()


@event.listens_for(Engine, "checkout")
def ping_if_idle(dbapi_connection, record, _proxy) -> None:
    """A pooled connection idle for a while may have been dropped (database restart, network): test it before use,
    and have the pool open a fresh one if it is dead. One in use moments ago is taken as alive, saving a round trip
    on every request (SQLAlchemy's pool_pre_ping would ping each time). One just opened is not tested either."""
    checked_in = record.info.get("checked_in")
    if checked_in is None or time.monotonic() - checked_in < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()  # handed out with no transaction open, so it can still be made autocommit
    except Exception as error:
        raise DisconnectionError(str(error)) from error


def insert_ignoring(table):
    """INSERT … ON CONFLICT DO NOTHING for the session's database (PostgreSQL or SQLite): a row whose unique key
    exists already is left out, without an error."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def python_defaults(table: Table, given: Collection[str]) -> dict:
    """The Python-side defaults of the table's columns not in `given`. SQLAlchemy fills them in for a top-level
    INSERT only, not for an INSERT inside a CTE."""
    defaults = {}
    for column in table.columns:
        default = column.default
        if column.name in given or default is None:
            continue
        if not isinstance(default, ScalarElementColumnDefault | CallableColumnDefault):
            raise TypeError(f"{table.name}.{column.name}: only scalar and callable defaults can be filled in")
        if isinstance(default, CallableColumnDefault):  # wrapped to take the execution context; ours ignore it
            defaults[column.name] = cast(Any, default.arg)(None)
        else:
            defaults[column.name] = default.arg
    return defaults


def count_rows(model, *conditions) -> int:
    """How many rows of `model` meet every condition."""
    return db.session.execute(select(func.count()).select_from(model).where(*conditions)).scalar_one()


def bound_values(*columns: str) -> dict[str, BindParameter]:
    """`column = :b_column` for each column of an UPDATE run once per row (executemany), the rows carrying
    b_<column> keys: SQLAlchemy reserves a column's bare name for its own SET parameter."""
    return {column: bindparam(f"b_{column}") for column in columns}


migrate = Migrate()
csrf = CSRFProtect()
htmx = Htmx()


def select_locale() -> str:
    """Chinese first (the merchants' language, whatever the browser says); English when the user picks it."""
    chosen = session.get("lang", "")
    return chosen if chosen in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


babel = Babel()


def connect_redis(url: str) -> Redis:
    """A client that gives up quickly when Redis is down: the database keeps the work and the sweeper queues it."""
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10, retry=Retry(NoBackoff(), 1))


def redis_connection() -> Redis:
    """One Redis client per app (connection pool inside)."""
    conn = current_app.extensions.get("wdtpanel_redis")
    if conn is None:
        conn = connect_redis(current_app.config["REDIS_URL"])
        current_app.extensions["wdtpanel_redis"] = conn
    return conn


FAILED_JOB_TTL = 86_400  # RQ keeps a failed job a year by default; the database holds what matters


class JobQueue(Queue):
    """RQ's queue, keeping a failed job (and its traceback) a day unless told otherwise."""

    def create_job(self, *args, **kwargs):
        if kwargs.get("failure_ttl") is None:
            kwargs["failure_ttl"] = FAILED_JOB_TTL
        return super().create_job(*args, **kwargs)


def job_queue() -> Queue:
    if "job_queue" not in g:
        g.job_queue = JobQueue(current_app.config["RQ_QUEUE"], connection=redis_connection())
    return g.job_queue
