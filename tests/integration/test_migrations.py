"""The migrations build the schema the models declare (on the database of this pass: SQLite or PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from wdtpanel.extensions import db

# PostgreSQL only, written in their migration: trigram indexes for the partial search of the 异常订单 page
MIGRATION_ONLY_INDEXES = {"ix_order_no_trgm", "ix_order_line_code_trgm"}


def test_the_migrated_database_matches_the_models(app):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert [
        difference
        for difference in differences
        if not (difference[0] == "remove_index" and difference[1].name in MIGRATION_ONLY_INDEXES)
    ] == []
