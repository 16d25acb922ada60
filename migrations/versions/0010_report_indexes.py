"""report indexes: ledger transactions by effective date, for reports and the dashboard of a period

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_transactions_effective_date'), ['effective_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_transactions_effective_date'))
