"""indexes for the 异常订单 page: listed orders newest first, and (PostgreSQL) trigram search on order no. and
merchant code

Revision ID: b7e3c9a1d4f2
Revises: 4a2f6c8e1d93
Create Date: 2026-11-29 19:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b7e3c9a1d4f2'
down_revision = '4a2f6c8e1d93'
branch_labels = None
depends_on = None

LISTED = sa.text("sync_state IN ('abnormal', 'unconfirmed', 'historical')")


def upgrade():
    op.create_index('ix_order_listed_time', 'orders', ['merchant_id', 'ordered_at', 'id'],
                    postgresql_where=LISTED, sqlite_where=LISTED)
    if op.get_bind().dialect.name == 'postgresql':
        # pg_trgm is a trusted extension: the database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_order_no_trgm ON orders USING gin (lower(order_no) gin_trgm_ops)")
        op.execute("CREATE INDEX ix_order_line_code_trgm ON order_line USING gin (lower(merchant_code) gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX ix_order_line_code_trgm")
        op.execute("DROP INDEX ix_order_no_trgm")
    op.drop_index('ix_order_listed_time', 'orders')
