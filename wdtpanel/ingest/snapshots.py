"""Newest snapshot wins, decided by the database: the two steps every upsert of the mall's snapshots shares.

A snapshot first claims its row with one conditional UPDATE (`mall_updated_at < new`). On PostgreSQL the UPDATE
holds the row until commit and re-checks its condition against a concurrent winner. On SQLite the request's
first write (the spent signature, or the claim) takes the database's write lock, waiting through busy_timeout;
the driver begins the transaction at that write, so what follows reads the latest data and no other writer
commits before this one does.
Everything the snapshot changes is written after the claim, in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db, insert_ignoring


def claim_newer(model, key: ColumnElement[bool], updated_at: datetime) -> int | None:
    """The id of the row `key` names, now carrying `updated_at`, if its stored snapshot was older; else None
    (no such row, or an equal or newer snapshot is stored)."""
    older = or_(model.mall_updated_at.is_(None), model.mall_updated_at < updated_at)
    return db.session.scalar(
        update(model)
        .where(key, older)
        .values(mall_updated_at=updated_at)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )


def insert_new(model, values: dict) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the new row's id, or None when a row with its unique key exists
    already (no error, no savepoint). The values go as parameters of one prepared statement per table."""
    dialect = db.session.get_bind().dialect.name
    statement = _INSERT_NEW.get((model, dialect))
    if statement is None:
        statement = insert_ignoring(model.__table__).returning(model.__table__.c.id)
        _INSERT_NEW[(model, dialect)] = statement
    return db.session.connection().execute(statement, values).scalar()  # Core: no ORM work per call


_INSERT_NEW: dict[tuple[type, str], Insert] = {}


def insert_unless_raced(row) -> bool:
    """Insert a new row; False (and nothing written) when a concurrent request inserted the same key first."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return False
    return True


@dataclass
class Taken:
    """What a snapshot got: a row it created, or the id of the stored row it claimed; neither when an equal or
    newer snapshot is stored."""

    created: object | None = None
    claimed_id: int | None = None


def take_row(model, key: ColumnElement[bool], updated_at: datetime, new_row: Callable[[], object]) -> Taken:
    """Claim the stored row for a newer snapshot, or insert `new_row()` when there is none. Does not commit."""
    claimed_id = claim_newer(model, key, updated_at)
    if claimed_id is None and db.session.scalar(select(model.id).where(key)) is None:
        row = new_row()
        if insert_unless_raced(row):
            return Taken(created=row)
    if claimed_id is None:  # the row exists: maybe created by a concurrent request since the first claim
        claimed_id = claim_newer(model, key, updated_at)
    return Taken(claimed_id=claimed_id)
