"""Many rows in one INSERT whose text does not grow with the rows (PostgreSQL).

SQLAlchemy writes an INSERT … RETURNING of many rows as one VALUES list holding them all, and psycopg parses that
text in Python on every call: 20–30 KB for a round of 100 shipments, 10–15 % of the shipping drain's CPU (A/B).
Here the rows travel as one JSON parameter read by json_to_recordset, so the statement is short, parsed once and
prepared. SQLite keeps SQLAlchemy's VALUES list (no such parsing there)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import JSON, Column, ColumnElement, Integer, String, Table, Text, bindparam, insert, select, sql
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeDecorator

from .extensions import db, insert_ignoring, python_defaults

POSITION = "position"  # each row's place in the list, so rows are inserted (and get their ids) in the caller's order


def json_rows(table: Table, rows: Sequence[dict]) -> str:
    """The rows as the JSON text json_recordset reads: each value as its column would bind it (aware times as naive
    UTC, amounts quantized), amounts and times as exact text, a JSON column's value as the JSON text SQLAlchemy
    would store (so None is JSON null, and a \\u0000 inside it is kept); keys that are no column pass as they are."""
    decorated, json_columns = _column_kinds(table)
    return json.dumps(
        [
            {name: _json_value(name, value, decorated, json_columns) for name, value in row.items()}
            | {POSITION: position}
            for position, row in enumerate(rows)
        ],
        ensure_ascii=False,
    )


DIALECT = postgresql.dialect()


@cache
def _column_kinds(table: Table) -> tuple[dict[str, TypeDecorator], frozenset[str]]:
    """The table's columns whose type prepares each value before binding (UTCDateTime, Money), and its JSON
    columns."""
    decorated = {column.name: column.type for column in table.columns if isinstance(column.type, TypeDecorator)}
    return decorated, frozenset(column.name for column in table.columns if isinstance(column.type, JSON))


def _json_value(name: str, value: Any, decorated: dict[str, TypeDecorator], json_columns: frozenset[str]) -> Any:
    if name in json_columns:
        return json.dumps(value)  # SQLAlchemy's JSON text; json_recordset reads it as text and casts it
    if name in decorated:
        value = decorated[name].process_bind_param(value, DIALECT)
    if isinstance(value, Decimal):
        return str(value)  # a JSON number would pass through a float
    if isinstance(value, date):
        return value.isoformat()
    return value


def json_recordset(
    table: Table, columns: Sequence[str], parameter: str, name: str
) -> tuple[TableValuedAlias, list[ColumnElement]]:
    """json_to_recordset(:parameter) AS name(column type, …, position): the rows of json_rows as a table, and each
    column's value as the column takes it (a JSON column's text cast to JSON)."""
    _, json_columns = _column_kinds(table)
    recordset = (
        sql.func.json_to_recordset(sql.cast(bindparam(parameter, type_=String()), postgresql.JSON))
        .table_valued(
            *(sql.column(column, Text() if column in json_columns else table.c[column].type) for column in columns),
            sql.column(POSITION, Integer()),
        )
        .render_derived(name, with_types=True)
    )
    values: list[ColumnElement] = [
        sql.cast(recordset.c[column], postgresql.JSON) if column in json_columns else recordset.c[column]
        for column in columns
    ]
    return recordset, values


def insert_rows(table: Table, rows: list[dict], returning: Column, *, ignore_conflicts: bool = False) -> list:
    """Insert the rows (all with the same keys) in one statement, in their order; `returning` of each row inserted.
    ignore_conflicts: a row whose unique key exists already is left out (ON CONFLICT DO NOTHING)."""
    if not rows:
        return []
    keys = rows[0].keys()
    if any(row.keys() != keys for row in rows):
        raise ValueError(f"rows for {table.name} must all have the same keys")
    connection = db.session.connection()
    statement = insert_ignoring(table) if ignore_conflicts else insert(table)
    if connection.dialect.name != "postgresql":
        return list(connection.execute(statement.returning(returning), rows).scalars())
    rows = [row | python_defaults(table, keys) for row in rows]  # a callable default is called for each row
    columns = tuple(rows[0])
    recordset, values = json_recordset(table, columns, "rows", "row")
    statement = statement.from_select(columns, select(*values).order_by(recordset.c[POSITION])).returning(returning)
    return list(connection.execute(statement, {"rows": json_rows(table, rows)}).scalars())
