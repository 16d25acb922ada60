"""reconciliation run requests: what an officer asked for and how far its job has got

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa
import core.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recon_run_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scope', sa.String(length=100), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('requested_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('error_code', sa.String(length=60), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'completed', 'failed')", name=op.f('ck_recon_run_requests_status_known')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_recon_run_requests_progress_in_range')),
    sa.ForeignKeyConstraint(['run_id'], ['recon_runs.id'], name=op.f('fk_recon_run_requests_run_id_recon_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_run_requests'))
    )
    with op.batch_alter_table('recon_run_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recon_run_requests_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('recon_run_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recon_run_requests_status'))

    op.drop_table('recon_run_requests')
