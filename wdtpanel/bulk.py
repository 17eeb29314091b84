"""Many rows in one INSERT whose text does not grow with the rows (PostgreSQL).

SQLAlchemy writes an INSERT … RETURNING of many rows as one VALUES list holding them all, and psycopg parses that
text in Python on every call: 20–30 KB for a round of 100 shipments, a third of the shipping drain's CPU. Here the
rows travel as one JSON parameter read by json_to_recordset, so the statement is short, parsed once and prepared.
SQLite keeps SQLAlchemy's VALUES list (no such parsing there)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Column, Integer, String, Table, bindparam, insert, select, sql
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeDecorator, TypeEngine

from .extensions import db, insert_ignoring, python_defaults

POSITION = "position"  # each row's place in the list, so rows are inserted (and get their ids) in the caller's order


def json_rows(table: Table, rows: Sequence[dict]) -> str:
    """The rows as the JSON text json_recordset reads: each value as its column would bind it (aware times as naive
    UTC, amounts quantized), amounts and times as exact text; keys that are no column pass as they are."""
    decorated = _decorated_columns(table)
    return json.dumps(
        [
            {
                name: _json_value(decorated[name].process_bind_param(value, DIALECT) if name in decorated else value)
                for name, value in row.items()
            }
            | {POSITION: position}
            for position, row in enumerate(rows)
        ],
        ensure_ascii=False,
    )


DIALECT = postgresql.dialect()


@cache
def _decorated_columns(table: Table) -> dict[str, TypeDecorator]:
    """The table's columns whose type prepares each value before binding (UTCDateTime, Money)."""
    return {column.name: column.type for column in table.columns if isinstance(column.type, TypeDecorator)}


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # a JSON number would pass through a float
    if isinstance(value, date):
        return value.isoformat()
    return value


def json_recordset(table: Table, columns: Sequence[str], parameter: str, name: str) -> TableValuedAlias:
    """json_to_recordset(:parameter) AS name(column type, …, position): the rows of json_rows as a table. Strings
    are read without their length, so the column refuses a longer value where varchar(n) might cut it short."""
    return (
        sql.func.json_to_recordset(sql.cast(bindparam(parameter, type_=String()), postgresql.JSON))
        .table_valued(
            *(sql.column(column, _unbounded(table.c[column].type)) for column in columns),
            sql.column(POSITION, Integer()),
        )
        .render_derived(name, with_types=True)
    )


def _unbounded(column_type: TypeEngine) -> TypeEngine:
    return String() if isinstance(column_type, String) and column_type.length else column_type


def insert_rows(table: Table, rows: list[dict], returning: Column, *, ignore_conflicts: bool = False) -> list:
    """Insert the rows (all with the same keys) in one statement, in their order; `returning` of each row inserted.
    ignore_conflicts: a row whose unique key exists already is left out (ON CONFLICT DO NOTHING)."""
    if not rows:
        return []
    connection = db.session.connection()
    statement = insert_ignoring(table) if ignore_conflicts else insert(table)
    if connection.dialect.name != "postgresql":
        return list(connection.execute(statement.returning(returning), rows).scalars())
    defaults = python_defaults(table, rows[0].keys())
    columns = (*rows[0].keys(), *defaults)
    row = json_recordset(table, columns, "rows", "row")
    statement = statement.from_select(
        columns, select(*(row.c[column] for column in columns)).order_by(row.c[POSITION])
    ).returning(returning)
    return list(connection.execute(statement, {"rows": json_rows(table, [r | defaults for r in rows])}).scalars())
