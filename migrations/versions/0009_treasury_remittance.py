"""Treasury remittances found on bank statements; the counterparty of a bank line

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa
import core.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('report_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('counterparty', sa.String(length=200), nullable=True))

    op.create_table('treasury_remittances',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('line_key', sa.String(length=160), nullable=False),
    sa.Column('line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_code', sa.String(length=50), nullable=False),
    sa.Column('budget_code', sa.String(length=40), nullable=False),
    sa.Column('period_month', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.Column('ledger_transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('matched_run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('matched_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_treasury_remittances_amount_positive')),
    sa.ForeignKeyConstraint(['ledger_transaction_id'], ['ledger_transactions.id'],
                            name=op.f('fk_treasury_remittances_ledger_transaction_id_ledger_transactions')),
    sa.ForeignKeyConstraint(['line_id'], ['report_lines.id'], name=op.f('fk_treasury_remittances_line_id_report_lines')),
    sa.ForeignKeyConstraint(['matched_run_id'], ['recon_runs.id'],
                            name=op.f('fk_treasury_remittances_matched_run_id_recon_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_treasury_remittances')),
    sa.UniqueConstraint('account', 'line_key', name=op.f('uq_treasury_remittances_account_line_key')),
    sa.UniqueConstraint('ledger_transaction_id', name=op.f('uq_treasury_remittances_ledger_transaction_id'))
    )
    with op.batch_alter_table('treasury_remittances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_treasury_remittances_agency_code'), ['agency_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('treasury_remittances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_treasury_remittances_agency_code'))
    op.drop_table('treasury_remittances')
    with op.batch_alter_table('report_lines', schema=None) as batch_op:
        batch_op.drop_column('counterparty')
