"""seen signatures of the ingest API's writes (replay protection)

Revision ID: 8d4f1b2c6e70
Revises: 5c1e2d7a9f30
Create Date: 2026-11-30 10:00:00

"""
import sqlalchemy as sa
from alembic import op

import wdtpanel.columns

revision = '8d4f1b2c6e70'
down_revision = '5c1e2d7a9f30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'seen_signature',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('signature', sa.String(length=64), nullable=False),
        sa.Column('expires_at', wdtpanel.columns.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_seen_signature_merchant_id_merchant')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_seen_signature')),
        sa.UniqueConstraint('merchant_id', 'signature', name=op.f('uq_seen_signature_merchant_id')),
    )
    with op.batch_alter_table('seen_signature', schema=None) as batch_op:
        batch_op.create_index('ix_seen_signature_expiry', ['merchant_id', 'expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('seen_signature', schema=None) as batch_op:
        batch_op.drop_index('ix_seen_signature_expiry')
    op.drop_table('seen_signature')
