"""A Treasury transfer may pay several months: one treasury_remittances row per transfer and month

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29

A transfer whose text names no month used to pay the oldest outstanding month in full, so one transfer
for two months left a false ``unremitted`` break on the second. It is now allocated to the outstanding
months oldest first, a row each, all naming the transfer's one ledger transaction.
"""

from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('treasury_remittances', schema=None) as batch_op:
        batch_op.drop_constraint('uq_treasury_remittances_account_line_key', type_='unique')
        batch_op.drop_constraint('uq_treasury_remittances_ledger_transaction_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_treasury_remittances_account_line_key_period_month'),
                                          ['account', 'line_key', 'period_month'])
        batch_op.create_index(batch_op.f('ix_treasury_remittances_ledger_transaction_id'), ['ledger_transaction_id'],
                              unique=False)


def downgrade():
    # Only while every transfer pays one month: a split transfer's rows would break the old keys.
    with op.batch_alter_table('treasury_remittances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_treasury_remittances_ledger_transaction_id'))
        batch_op.drop_constraint(batch_op.f('uq_treasury_remittances_account_line_key_period_month'), type_='unique')
        batch_op.create_unique_constraint('uq_treasury_remittances_ledger_transaction_id', ['ledger_transaction_id'])
        batch_op.create_unique_constraint('uq_treasury_remittances_account_line_key', ['account', 'line_key'])
