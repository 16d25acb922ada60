"""reconciliation runs, results, confirmations and the break register

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa
import core.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recon_confirmations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scope', sa.String(length=100), nullable=False),
    sa.Column('line_key', sa.String(length=160), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('confirmed_by', sa.String(length=100), nullable=False),
    sa.Column('confirmed_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_confirmations')),
    sa.UniqueConstraint('scope', 'line_key', name=op.f('uq_recon_confirmations_scope_line_key'))
    )
    op.create_table('recon_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scope', sa.String(length=100), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('rule_version', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('started_by', sa.String(length=100), nullable=False),
    sa.Column('started_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('result_digest', sa.String(length=64), nullable=True),
    sa.Column('matched_count', sa.Integer(), nullable=False),
    sa.Column('break_count', sa.Integer(), nullable=False),
    sa.Column('signed_off_by', sa.String(length=100), nullable=True),
    sa.Column('signed_off_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('running', 'completed', 'superseded', 'signed_off')", name=op.f('ck_recon_runs_status_known')),
    sa.CheckConstraint('period_start <= period_end', name=op.f('ck_recon_runs_period_ordered')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_runs'))
    )
    with op.batch_alter_table('recon_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recon_runs_scope'), ['scope'], unique=False)

    op.create_table('recon_breaks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scope', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('our_amount', sa.BigInteger(), nullable=True),
    sa.Column('their_amount', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('opened_run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('last_seen_run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('opened_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('proposed_by', sa.String(length=100), nullable=True),
    sa.Column('approved_by', sa.String(length=100), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('status_mismatch', 'missing_at_provider', 'missing_internally', 'amount_mismatch', 'duplicate_at_provider', 'date_out_of_window', 'payout_mismatch', 'bank_mismatch', 'unremitted')", name=op.f('ck_recon_breaks_kind_known')),
    sa.CheckConstraint("status IN ('open', 'investigating', 'resolution_proposed', 'approved', 'resolved', 'auto_closed')", name=op.f('ck_recon_breaks_status_known')),
    sa.CheckConstraint('approved_by IS NULL OR approved_by <> proposed_by', name=op.f('ck_recon_breaks_approver_is_not_proposer')),
    sa.ForeignKeyConstraint(['last_seen_run_id'], ['recon_runs.id'], name=op.f('fk_recon_breaks_last_seen_run_id_recon_runs')),
    sa.ForeignKeyConstraint(['opened_run_id'], ['recon_runs.id'], name=op.f('fk_recon_breaks_opened_run_id_recon_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_breaks')),
    sa.UniqueConstraint('scope', 'kind', 'key', name=op.f('uq_recon_breaks_scope_kind_key'))
    )
    with op.batch_alter_table('recon_breaks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recon_breaks_status'), ['status'], unique=False)

    op.create_table('recon_items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('in_period', sa.Boolean(), nullable=False),
    sa.Column('service_code', sa.String(length=50), nullable=True),
    sa.Column('agency_code', sa.String(length=50), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['recon_runs.id'], name=op.f('fk_recon_items_run_id_recon_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_items')),
    sa.UniqueConstraint('run_id', 'reference', name=op.f('uq_recon_items_run_id_reference'))
    )
    with op.batch_alter_table('recon_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recon_items_run_id'), ['run_id'], unique=False)

    op.create_table('break_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('break_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_status', sa.String(length=30), nullable=True),
    sa.Column('to_status', sa.String(length=30), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['break_id'], ['recon_breaks.id'], name=op.f('fk_break_events_break_id_recon_breaks')),
    sa.ForeignKeyConstraint(['run_id'], ['recon_runs.id'], name=op.f('fk_break_events_run_id_recon_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_break_events'))
    )
    with op.batch_alter_table('break_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_break_events_break_id'), ['break_id'], unique=False)

    op.create_table('recon_results',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=True),
    sa.Column('provider_reference', sa.String(length=100), nullable=True),
    sa.Column('our_amount', sa.BigInteger(), nullable=True),
    sa.Column('their_amount', sa.BigInteger(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.CheckConstraint("outcome IN ('matched', 'suggested', 'pending', 'unpaid', 'not_ours', 'missing_at_provider', 'missing_internally', 'amount_mismatch', 'duplicate_at_provider', 'date_out_of_window', 'status_mismatch', 'bank_mismatch')", name=op.f('ck_recon_results_outcome_known')),
    sa.ForeignKeyConstraint(['item_id'], ['recon_items.id'], name=op.f('fk_recon_results_item_id_recon_items')),
    sa.ForeignKeyConstraint(['line_id'], ['report_lines.id'], name=op.f('fk_recon_results_line_id_report_lines')),
    sa.ForeignKeyConstraint(['run_id'], ['recon_runs.id'], name=op.f('fk_recon_results_run_id_recon_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_results'))
    )
    with op.batch_alter_table('recon_results', schema=None) as batch_op:
        batch_op.create_index('ix_recon_results_run_id_outcome', ['run_id', 'outcome'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('recon_results', schema=None) as batch_op:
        batch_op.drop_index('ix_recon_results_run_id_outcome')

    op.drop_table('recon_results')
    with op.batch_alter_table('break_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_break_events_break_id'))

    op.drop_table('break_events')
    with op.batch_alter_table('recon_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recon_items_run_id'))

    op.drop_table('recon_items')
    with op.batch_alter_table('recon_breaks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recon_breaks_status'))

    op.drop_table('recon_breaks')
    with op.batch_alter_table('recon_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recon_runs_scope'))

    op.drop_table('recon_runs')
    op.drop_table('recon_confirmations')
