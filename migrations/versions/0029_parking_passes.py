"""parking: monthly passes, and the service a lot sells them under

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07

A citizen buys a monthly pass (vé tháng) for a linked vehicle at a lot; its bill is an ordinary bill of the
lot's pass service, and while that bill is paid the plate's stays at the lot are covered
(``parking.passes``). The demo lots sell the passes their cities' rules price.
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
#: The seeded lots and the monthly services of their tariffs (parking.lots.SeedLots).
SEEDED = {"HK-HANG-KHAY": "PARKING_HN_MONTHLY", "Q1-LE-LOI": "PARKING_HCM_MONTHLY"}


def upgrade() -> None:
    with op.batch_alter_table('parking_lots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pass_service', sa.String(length=50), nullable=True))
    lots = sa.table('parking_lots', sa.column('code', sa.String), sa.column('pass_service', sa.String))
    for code, service in SEEDED.items():
        op.execute(lots.update().where(lots.c.code == code).values(pass_service=service))
    op.create_table('parking_passes',
    sa.Column('id', ID, nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('lot_id', ID, nullable=False),
    sa.Column('citizen_id', ID, nullable=False),
    sa.Column('plate', sa.String(length=20), nullable=False),
    sa.Column('vehicle_class', sa.String(length=20), nullable=False),
    sa.Column('valid_from', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_until', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('bill_id', ID, nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('valid_until > valid_from', name=op.f('ck_parking_passes_period_ordered')),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_parking_passes_bill_id_bills')),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizens.id'], name=op.f('fk_parking_passes_citizen_id_citizens')),
    sa.ForeignKeyConstraint(['lot_id'], ['parking_lots.id'], name=op.f('fk_parking_passes_lot_id_parking_lots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_passes')),
    sa.UniqueConstraint('bill_id', name=op.f('uq_parking_passes_bill_id')),
    sa.UniqueConstraint('public_id', name=op.f('uq_parking_passes_public_id'))
    )
    with op.batch_alter_table('parking_passes', schema=None) as batch_op:
        batch_op.create_index('ix_parking_passes_citizen_id', ['citizen_id'], unique=False)
        batch_op.create_index('uq_parking_passes_one_per_month', ['lot_id', 'plate', 'valid_from'], unique=True,
                              postgresql_where=sa.text('cancelled_at IS NULL'),
                              sqlite_where=sa.text('cancelled_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('parking_passes', schema=None) as batch_op:
        batch_op.drop_index('uq_parking_passes_one_per_month')
        batch_op.drop_index('ix_parking_passes_citizen_id')
    op.drop_table('parking_passes')
    with op.batch_alter_table('parking_lots', schema=None) as batch_op:
        batch_op.drop_column('pass_service')
