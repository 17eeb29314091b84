"""indexes on the ingest path: the expiry of seen signatures alone (the purge spans merchants), and no second
index on order_line.order_id (the unique (order_id, mall_line_id) serves it)

Revision ID: c3d5e7f9a1b2
Revises: b7e3c9a1d4f2
Create Date: 2026-11-29 23:20:00

"""
from alembic import op

revision = 'c3d5e7f9a1b2'
down_revision = 'b7e3c9a1d4f2'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_seen_signature_expiry', 'seen_signature')
    op.create_index('ix_seen_signature_expires_at', 'seen_signature', ['expires_at'])
    op.drop_index('ix_order_line_order_id', 'order_line')


def downgrade():
    op.create_index('ix_order_line_order_id', 'order_line', ['order_id'])
    op.drop_index('ix_seen_signature_expires_at', 'seen_signature')
    op.create_index('ix_seen_signature_expiry', 'seen_signature', ['merchant_id', 'expires_at'])
