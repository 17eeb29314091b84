"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Numeric, String
from sqlalchemy.types import DateTime, TypeDecorator

MONEY_PLACES = Decimal("0.0001")


class UTCDateTime(TypeDecorator):
    """Stored as naive UTC, always returned as an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class Money(TypeDecorator):
    """Decimal with 4 places: NUMERIC(19,4) on PostgreSQL, text on SQLite (which has no decimal)."""

    impl = Numeric(19, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(Numeric(19, 4, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        quantized = Decimal(value).quantize(MONEY_PLACES)
        if not quantized.is_finite():
            raise ValueError(f"{value} is not an amount")
        return str(quantized) if dialect.name == "sqlite" else quantized

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value).quantize(MONEY_PLACES)


def utcnow() -> datetime:
    return datetime.now(UTC)
