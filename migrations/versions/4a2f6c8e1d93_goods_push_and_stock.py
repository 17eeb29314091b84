"""goods pushed to WDT's platform goods (state per spec, 推送全部 runs), stock back from WDT, the mall's goods editor
link, records pulled per day

Revision ID: 4a2f6c8e1d93
Revises: 8d4f1b2c6e70
Create Date: 2026-11-30 12:00:00

"""
import sqlalchemy as sa
from alembic import op

import wdtpanel.columns

revision = '4a2f6c8e1d93'
down_revision = '8d4f1b2c6e70'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'goods_push_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('created_at', wdtpanel.columns.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_goods_push_run_merchant_id_merchant')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_goods_push_run_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_goods_push_run')),
    )
    with op.batch_alter_table('goods_push_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goods_push_run_merchant_id'), ['merchant_id'], unique=False)

    op.create_table(
        'spec_stock',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('mall_goods_id', sa.String(length=64), nullable=False),
        sa.Column('mall_spec_id', sa.String(length=64), nullable=False),
        sa.Column('quantity', wdtpanel.columns.Money(precision=19, scale=4), nullable=False),
        sa.Column('wdt_rec_id', sa.String(length=40), nullable=False),
        sa.Column('change_count', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', wdtpanel.columns.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_spec_stock_merchant_id_merchant')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_spec_stock')),
        sa.UniqueConstraint('merchant_id', 'mall_goods_id', 'mall_spec_id', name=op.f('uq_spec_stock_merchant_id')),
    )

    with op.batch_alter_table('merchant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('goods_editor_url', sa.String(length=512), nullable=True))

    # Every spec known before this revision is still to be pushed.
    with op.batch_alter_table('spec', schema=None) as batch_op:
        batch_op.add_column(sa.Column('push_state', sa.String(length=16), nullable=False, server_default='pending'))
        batch_op.add_column(sa.Column('push_reason', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('push_params', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('pushed_at', wdtpanel.columns.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('push_version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('push_digest', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('push_run_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_spec_merchant_code', ['merchant_id', 'merchant_code'], unique=False)
        batch_op.create_index('ix_spec_merchant_push_state', ['merchant_id', 'push_state', 'id'], unique=False)
        batch_op.create_index('ix_spec_push_run', ['push_run_id', 'push_state'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_spec_push_run_id_goods_push_run'), 'goods_push_run',
                                    ['push_run_id'], ['id'])

    with op.batch_alter_table('sync_status', schema=None) as batch_op:
        batch_op.add_column(sa.Column('records_today', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('records_day', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('sync_status', schema=None) as batch_op:
        batch_op.drop_column('records_day')
        batch_op.drop_column('records_today')

    with op.batch_alter_table('spec', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_spec_push_run_id_goods_push_run'), type_='foreignkey')
        batch_op.drop_index('ix_spec_push_run')
        batch_op.drop_index('ix_spec_merchant_push_state')
        batch_op.drop_index('ix_spec_merchant_code')
        for column in ('push_run_id', 'push_digest', 'push_version', 'pushed_at', 'push_params', 'push_reason',
                       'push_state'):
            batch_op.drop_column(column)

    with op.batch_alter_table('merchant', schema=None) as batch_op:
        batch_op.drop_column('goods_editor_url')

    op.drop_table('spec_stock')
    with op.batch_alter_table('goods_push_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goods_push_run_merchant_id'))
    op.drop_table('goods_push_run')
