"""parking: citizens' vehicles, a session's bill, and the vehicle counts that check what operators report

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07

A citizen links a plate (and its RFID tag) to their e-ID profile; a closed session with something to pay
gets a bill (``parking_sessions.bill_id``), the citizen's when the plate is linked. Vehicle counts from the
gates' own counters or inspectors are kept per lot and time so that days whose sessions fall short of the
counts become breaks for finance (``parking.leakage``).
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('parking_vehicles',
    sa.Column('id', ID, nullable=False),
    sa.Column('citizen_id', ID, nullable=False),
    sa.Column('plate', sa.String(length=20), nullable=False),
    sa.Column('vehicle_class', sa.String(length=20), nullable=False),
    sa.Column('rfid_tag', sa.String(length=64), nullable=True),
    sa.Column('linked_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('unlinked_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizens.id'], name=op.f('fk_parking_vehicles_citizen_id_citizens')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_vehicles'))
    )
    with op.batch_alter_table('parking_vehicles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parking_vehicles_citizen_id'), ['citizen_id'], unique=False)
        batch_op.create_index('uq_parking_vehicles_one_link_per_plate', ['plate'], unique=True,
                              postgresql_where=sa.text('unlinked_at IS NULL'),
                              sqlite_where=sa.text('unlinked_at IS NULL'))
    op.create_table('parking_counts',
    sa.Column('id', ID, nullable=False),
    sa.Column('operator_id', ID, nullable=False),
    sa.Column('lot_id', ID, nullable=False),
    sa.Column('count_id', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('period_start', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('period_end', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('vehicles', sa.Integer(), nullable=False),
    sa.Column('received_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('gate_counter', 'sensor', 'inspector')", name=op.f('ck_parking_counts_source_known')),
    sa.CheckConstraint('vehicles >= 0', name=op.f('ck_parking_counts_vehicles_not_negative')),
    sa.CheckConstraint('period_end > period_start', name=op.f('ck_parking_counts_period_ordered')),
    sa.ForeignKeyConstraint(['lot_id'], ['parking_lots.id'], name=op.f('fk_parking_counts_lot_id_parking_lots')),
    sa.ForeignKeyConstraint(['operator_id'], ['parking_operators.id'],
                            name=op.f('fk_parking_counts_operator_id_parking_operators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_counts')),
    sa.UniqueConstraint('operator_id', 'count_id', name=op.f('uq_parking_counts_operator_id_count_id'))
    )
    with op.batch_alter_table('parking_counts', schema=None) as batch_op:
        batch_op.create_index('ix_parking_counts_lot_id_period_start', ['lot_id', 'period_start'], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        # A column reference: SQLite adds it with the column, without copying the table.
        op.execute("ALTER TABLE parking_sessions ADD COLUMN bill_id INTEGER "
                   "CONSTRAINT fk_parking_sessions_bill_id_bills REFERENCES bills (id)")
    else:
        op.add_column('parking_sessions', sa.Column('bill_id', ID, nullable=True))
        op.create_foreign_key(op.f('fk_parking_sessions_bill_id_bills'), 'parking_sessions', 'bills',
                              ['bill_id'], ['id'])
    op.create_index('uq_parking_sessions_bill_id', 'parking_sessions', ['bill_id'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_parking_sessions_bill_id', table_name='parking_sessions')
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot drop a column a foreign key names: the batch copies the table without it.
        with op.batch_alter_table('parking_sessions', schema=None) as batch_op:
            batch_op.drop_column('bill_id')
    else:
        op.drop_constraint(op.f('fk_parking_sessions_bill_id_bills'), 'parking_sessions', type_='foreignkey')
        op.drop_column('parking_sessions', 'bill_id')
    op.drop_table('parking_counts')
    with op.batch_alter_table('parking_vehicles', schema=None) as batch_op:
        batch_op.drop_index('uq_parking_vehicles_one_link_per_plate')
        batch_op.drop_index(batch_op.f('ix_parking_vehicles_citizen_id'))
    op.drop_table('parking_vehicles')
