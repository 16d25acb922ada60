"""parking: operators, their lots, the gate events they send, and the sessions made from them

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07

Operators (a licensed company or the city's own unit, its contract and revenue share) run lots (zone and
site group: the tariff's dimensions; capacity; the tariff service that prices them). Gate events are kept
once per operator and event id; sessions are rebuilt from a vehicle's events at a lot (``parking.gate``).
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('parking_operators',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('agency_code', sa.String(length=50), nullable=False),
    sa.Column('contract_reference', sa.String(length=100), nullable=False),
    sa.Column('revenue_share_bp', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('licensed_company', 'city_unit')", name=op.f('ck_parking_operators_kind_known')),
    sa.CheckConstraint('revenue_share_bp BETWEEN 0 AND 10000', name=op.f('ck_parking_operators_share_in_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_operators')),
    sa.UniqueConstraint('code', name=op.f('uq_parking_operators_code'))
    )
    op.create_table('parking_lots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('operator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('commune_code', sa.String(length=5), nullable=False),
    sa.Column('zone', sa.String(length=50), nullable=True),
    sa.Column('site_group', sa.String(length=50), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('tariff_service', sa.String(length=50), nullable=False),
    sa.Column('vehicle_classes', sa.JSON(), nullable=False),
    sa.Column('grace_minutes', sa.Integer(), nullable=False),
    sa.Column('unmatched_exit_hours', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity >= 0', name=op.f('ck_parking_lots_capacity_not_negative')),
    sa.CheckConstraint('grace_minutes BETWEEN 0 AND 60', name=op.f('ck_parking_lots_grace_in_range')),
    sa.ForeignKeyConstraint(['operator_id'], ['parking_operators.id'], name=op.f('fk_parking_lots_operator_id_parking_operators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_lots')),
    sa.UniqueConstraint('code', name=op.f('uq_parking_lots_code'))
    )
    with op.batch_alter_table('parking_lots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parking_lots_operator_id'), ['operator_id'], unique=False)

    op.create_table('parking_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('operator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('occurred_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('plate', sa.String(length=20), nullable=False),
    sa.Column('vehicle_class', sa.String(length=20), nullable=False),
    sa.Column('credential_kind', sa.String(length=20), nullable=False),
    sa.Column('credential', sa.String(length=100), nullable=False),
    sa.Column('received_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('skew_seconds', sa.Integer(), nullable=False),
    sa.CheckConstraint("credential_kind IN ('rfid', 'ticket_qr', 'plate_read')", name=op.f('ck_parking_events_credential_kind_known')),
    sa.CheckConstraint("type IN ('entry', 'exit')", name=op.f('ck_parking_events_type_known')),
    sa.ForeignKeyConstraint(['lot_id'], ['parking_lots.id'], name=op.f('fk_parking_events_lot_id_parking_lots')),
    sa.ForeignKeyConstraint(['operator_id'], ['parking_operators.id'], name=op.f('fk_parking_events_operator_id_parking_operators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_events')),
    sa.UniqueConstraint('operator_id', 'event_id', name=op.f('uq_parking_events_operator_id_event_id'))
    )
    with op.batch_alter_table('parking_events', schema=None) as batch_op:
        batch_op.create_index('ix_parking_events_lot_id_plate', ['lot_id', 'plate'], unique=False)

    op.create_table('parking_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('plate', sa.String(length=20), nullable=False),
    sa.Column('vehicle_class', sa.String(length=20), nullable=False),
    sa.Column('entry_event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('exit_event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('entered_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('exited_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('pricing', sa.JSON(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'closed', 'superseded')", name=op.f('ck_parking_sessions_status_known')),
    sa.ForeignKeyConstraint(['entry_event_id'], ['parking_events.id'], name=op.f('fk_parking_sessions_entry_event_id_parking_events')),
    sa.ForeignKeyConstraint(['exit_event_id'], ['parking_events.id'], name=op.f('fk_parking_sessions_exit_event_id_parking_events')),
    sa.ForeignKeyConstraint(['lot_id'], ['parking_lots.id'], name=op.f('fk_parking_sessions_lot_id_parking_lots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_sessions')),
    sa.UniqueConstraint('entry_event_id', name=op.f('uq_parking_sessions_entry_event_id')),
    sa.UniqueConstraint('exit_event_id', name=op.f('uq_parking_sessions_exit_event_id')),
    sa.UniqueConstraint('public_id', name=op.f('uq_parking_sessions_public_id'))
    )
    with op.batch_alter_table('parking_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_parking_sessions_lot_id_plate', ['lot_id', 'plate'], unique=False)
        batch_op.create_index(batch_op.f('ix_parking_sessions_plate'), ['plate'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('parking_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parking_sessions_plate'))
        batch_op.drop_index('ix_parking_sessions_lot_id_plate')

    op.drop_table('parking_sessions')
    with op.batch_alter_table('parking_events', schema=None) as batch_op:
        batch_op.drop_index('ix_parking_events_lot_id_plate')

    op.drop_table('parking_events')
    with op.batch_alter_table('parking_lots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parking_lots_operator_id'))

    op.drop_table('parking_lots')
    op.drop_table('parking_operators')
