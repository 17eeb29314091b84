"""reasons as codes with parameters, stable WDT oids, specs for every SKU, pull issues kept whole, sync status per
kind, session versions

Revision ID: 5c1e2d7a9f30
Revises: 27f6ab0e9b85
Create Date: 2026-11-29 18:00:00

"""
import hashlib

import sqlalchemy as sa
from alembic import op

import wdtpanel.columns

revision = '5c1e2d7a9f30'
down_revision = '27f6ab0e9b85'
branch_labels = None
depends_on = None

EMPTY_JSON = sa.text("'{}'")


def _oid(order_no, line_id):
    """As wdtpanel.push.trade_mapping.wdt_oid at this revision (kept here so the migration never changes)."""
    readable = f"{order_no}-{line_id}"
    if "-" not in line_id and len(readable) <= 40:
        return readable
    return "H" + hashlib.sha256(f"{order_no}\x00{line_id}".encode()).hexdigest()[:32]


def _spec_table():
    op.create_table(
        'spec',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('goods_id', sa.Integer(), nullable=False),
        sa.Column('mall_spec_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('merchant_code', sa.String(length=64), nullable=True),
        sa.Column('price', wdtpanel.columns.Money(precision=19, scale=4), nullable=True),
        sa.ForeignKeyConstraint(['goods_id'], ['goods.id'], name=op.f('fk_spec_goods_id_goods')),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_spec_merchant_id_merchant')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_spec')),
        sa.UniqueConstraint('goods_id', 'mall_spec_id', name=op.f('uq_spec_goods_id')),
    )
    with op.batch_alter_table('spec', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spec_goods_id'), ['goods_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_spec_merchant_id'), ['merchant_id'], unique=False)


def upgrade():
    conn = op.get_bind()

    # Every SKU is a spec; a single-spec goods gets one implicit spec (mall_spec_id "") carrying its code.
    _spec_table()
    conn.execute(sa.text(
        "INSERT INTO spec (id, merchant_id, goods_id, mall_spec_id, name, merchant_code, price) "
        "SELECT id, merchant_id, goods_id, mall_spec_id, name, merchant_code, price FROM sku"))
    conn.execute(sa.text(
        "INSERT INTO spec (merchant_id, goods_id, mall_spec_id, name, merchant_code, price) "
        "SELECT g.merchant_id, g.id, '', '', g.merchant_code, NULL FROM goods g "
        "WHERE NOT EXISTS (SELECT 1 FROM spec s WHERE s.goods_id = g.id)"))
    if conn.dialect.name == 'postgresql':
        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('spec', 'id'), COALESCE(MAX(id), 1)) FROM spec"))
    op.drop_table('sku')

    # Reasons are codes with parameters; the words are rendered in the reader's language.
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sync_params', sa.JSON(), nullable=False, server_default=EMPTY_JSON))
        batch_op.add_column(sa.Column('retry_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.drop_column('sync_message')
    with op.batch_alter_table('push_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=False, server_default=EMPTY_JSON))
        batch_op.drop_column('message')

    # Lines keep the oid WDT knows them by: lines already in WDT keep the mall's line id they went out with.
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wdt_oid', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('refund_kind', sa.String(length=24), nullable=True))
    rows = conn.execute(sa.text(
        "SELECT l.id, l.mall_line_id, o.order_no, o.pushed_version FROM order_line l JOIN orders o ON o.id = l.order_id"))
    for line_id, mall_line_id, order_no, pushed_version in rows.fetchall():
        oid = mall_line_id if pushed_version is not None else _oid(order_no, mall_line_id)
        conn.execute(sa.text("UPDATE order_line SET wdt_oid = :oid WHERE id = :id"), {"oid": oid, "id": line_id})
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.alter_column('wdt_oid', existing_type=sa.String(length=40), nullable=False)

    # Records a pull could not apply are kept whole, of any kind.
    op.create_table(
        'pull_issue',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('record_key', sa.String(length=64), nullable=False),
        sa.Column('subject', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('record', sa.JSON(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', wdtpanel.columns.UTCDateTime(), nullable=False),
        sa.Column('updated_at', wdtpanel.columns.UTCDateTime(), nullable=False),
        sa.Column('resolved_at', wdtpanel.columns.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_pull_issue_merchant_id_merchant')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pull_issue')),
        sa.UniqueConstraint('merchant_id', 'kind', 'record_key', name=op.f('uq_pull_issue_merchant_id')),
    )
    with op.batch_alter_table('pull_issue', schema=None) as batch_op:
        batch_op.create_index('ix_pull_issue_open', ['merchant_id', 'kind', 'resolved_at', 'id'], unique=False)
    conn.execute(sa.text(
        "INSERT INTO pull_issue (merchant_id, kind, record_key, subject, reason, params, record, attempts, created_at,"
        " updated_at) SELECT merchant_id, 'shipping', wdt_rec_id, MIN(tid), MIN(reason), '{}', '{}', COUNT(*),"
        " MIN(created_at), MAX(created_at) FROM shipping_issue GROUP BY merchant_id, wdt_rec_id"))
    op.drop_table('shipping_issue')

    # One status row per merchant and kind of pull.
    old = conn.execute(sa.text("SELECT merchant_id, last_pull_at, last_success_at, wdt_reachable, last_error_at"
                               " FROM sync_status")).fetchall()
    op.drop_table('sync_status')
    op.create_table(
        'sync_status',
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('last_pull_at', wdtpanel.columns.UTCDateTime(), nullable=True),
        sa.Column('last_success_at', wdtpanel.columns.UTCDateTime(), nullable=True),
        sa.Column('wdt_reachable', sa.Boolean(), nullable=True),
        sa.Column('last_error_reason', sa.String(length=40), nullable=True),
        sa.Column('last_error_params', sa.JSON(), nullable=False),
        sa.Column('last_error_at', wdtpanel.columns.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_sync_status_merchant_id_merchant')),
        sa.PrimaryKeyConstraint('merchant_id', 'kind', name=op.f('pk_sync_status')),
    )
    for row in old:  # raw values, as the database gave them
        conn.execute(sa.text(
            "INSERT INTO sync_status (merchant_id, kind, last_pull_at, last_success_at, wdt_reachable,"
            " last_error_params, last_error_at) VALUES (:m, 'shipping', :pulled, :succeeded, :reachable, '{}', :failed)"),
            {"m": row[0], "pulled": row[1], "succeeded": row[2], "reachable": row[3], "failed": row[4]})

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='1'))

    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_webhook_delivery_order_id_orders'), 'orders', ['order_id'], ['id'])
        batch_op.create_index('ix_webhook_delivery_order', ['merchant_id', 'order_id'], unique=False)


def downgrade():
    raise NotImplementedError("restore the database from a backup taken before the upgrade")
