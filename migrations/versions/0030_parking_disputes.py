"""parking: citizens' disputes of a session's charge, and their resolution

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-08

A citizen disputes a parking session's charge; a finance officer or the operator upholds it (refund through
the refund path, or the unpaid bill cancelled) or rejects it with a reason (``parking.disputes``).
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('parking_disputes',
    sa.Column('id', ID, nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('session_id', ID, nullable=False),
    sa.Column('citizen_id', ID, nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('statement', sa.String(length=1000), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('opened_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_by', sa.String(length=100), nullable=True),
    sa.Column('resolved_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution_note', sa.String(length=1000), nullable=True),
    sa.Column('remedy', sa.String(length=20), nullable=True),
    sa.Column('refund_id', ID, nullable=True),
    sa.CheckConstraint("status IN ('open', 'upheld', 'rejected')", name=op.f('ck_parking_disputes_status_known')),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizens.id'], name=op.f('fk_parking_disputes_citizen_id_citizens')),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_parking_disputes_refund_id_refunds')),
    sa.ForeignKeyConstraint(['session_id'], ['parking_sessions.id'],
                            name=op.f('fk_parking_disputes_session_id_parking_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_disputes')),
    sa.UniqueConstraint('public_id', name=op.f('uq_parking_disputes_public_id')),
    sa.UniqueConstraint('session_id', name=op.f('uq_parking_disputes_session_id'))
    )
    with op.batch_alter_table('parking_disputes', schema=None) as batch_op:
        batch_op.create_index('ix_parking_disputes_status', ['status'], unique=False)
        batch_op.create_index('ix_parking_disputes_citizen_id', ['citizen_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('parking_disputes', schema=None) as batch_op:
        batch_op.drop_index('ix_parking_disputes_citizen_id')
        batch_op.drop_index('ix_parking_disputes_status')
    op.drop_table('parking_disputes')
