"""API clients: agency systems, hashed keys, signing secrets; agency bills, pay links and callbacks

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa
import core.db


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_clients',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('agency_code', sa.String(length=50), nullable=False),
    sa.Column('service_codes', sa.JSON(), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('callback_url', sa.String(length=2000), nullable=False),
    sa.Column('return_url_domains', sa.JSON(), nullable=False),
    sa.Column('rate_limit_per_minute', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('signing_secret_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('previous_secret_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('previous_secret_expires_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rate_limit_per_minute > 0', name=op.f('ck_api_clients_rate_limit_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_clients'))
    )
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_clients_agency_code'), ['agency_code'], unique=False)

    op.create_table('agency_bills',
    sa.Column('bill_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('client_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('return_url', sa.String(length=2000), nullable=True),
    sa.Column('last_sequence', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_agency_bills_bill_id_bills')),
    sa.ForeignKeyConstraint(['client_id'], ['api_clients.id'], name=op.f('fk_agency_bills_client_id_api_clients')),
    sa.PrimaryKeyConstraint('bill_id', name=op.f('pk_agency_bills'))
    )
    with op.batch_alter_table('agency_bills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_bills_client_id'), ['client_id'], unique=False)

    op.create_table('api_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('client_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['api_clients.id'], name=op.f('fk_api_keys_client_id_api_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_client_id'), ['client_id'], unique=False)

    op.create_table('bill_links',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bill_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_bill_links_bill_id_bills')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_bill_links_token_hash'))
    )
    with op.batch_alter_table('bill_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bill_links_bill_id'), ['bill_id'], unique=False)

    op.create_table('callback_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.String(length=32), nullable=False),
    sa.Column('client_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bill_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('waiting', 'pending', 'delivered', 'failed')", name=op.f('ck_callback_deliveries_status_known')),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_callback_deliveries_bill_id_bills')),
    sa.ForeignKeyConstraint(['client_id'], ['api_clients.id'], name=op.f('fk_callback_deliveries_client_id_api_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_deliveries')),
    sa.UniqueConstraint('bill_id', 'sequence', name=op.f('uq_callback_deliveries_bill_id_sequence')),
    sa.UniqueConstraint('event_id', name=op.f('uq_callback_deliveries_event_id'))
    )
    with op.batch_alter_table('callback_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_deliveries_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_deliveries_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_deliveries_status'), ['status'], unique=False)

    op.create_table('callback_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('delivery_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('attempted_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['callback_deliveries.id'], name=op.f('fk_callback_attempts_delivery_id_callback_deliveries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_attempts'))
    )
    with op.batch_alter_table('callback_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_attempts_delivery_id'), ['delivery_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('callback_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_attempts_delivery_id'))

    op.drop_table('callback_attempts')
    with op.batch_alter_table('callback_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_deliveries_status'))
        batch_op.drop_index(batch_op.f('ix_callback_deliveries_client_id'))
        batch_op.drop_index(batch_op.f('ix_callback_deliveries_bill_id'))

    op.drop_table('callback_deliveries')
    with op.batch_alter_table('bill_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bill_links_bill_id'))

    op.drop_table('bill_links')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_client_id'))

    op.drop_table('api_keys')
    with op.batch_alter_table('agency_bills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_bills_client_id'))

    op.drop_table('agency_bills')
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_clients_agency_code'))

    op.drop_table('api_clients')
