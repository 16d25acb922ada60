"""foundation: outbox jobs and provinces

Revision ID: 0001
Revises:
Create Date: 2026-11-29 06:05:08.983279
"""

from alembic import op
import sqlalchemy as sa
import core.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox_jobs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('available_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_expires_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'running', 'done', 'failed')", name=op.f('ck_outbox_jobs_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_jobs')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_jobs_dedupe_key'))
    )
    with op.batch_alter_table('outbox_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_jobs_status'), ['status'], unique=False)

    op.create_table('provinces',
    sa.Column('code_list', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.CheckConstraint("kind IN ('city', 'province')", name=op.f('ck_provinces_kind_known')),
    sa.CheckConstraint('length(code) = 2', name=op.f('ck_provinces_code_two_digits')),
    sa.PrimaryKeyConstraint('code_list', 'code', name=op.f('pk_provinces'))
    )


def downgrade() -> None:
    op.drop_table('provinces')
    with op.batch_alter_table('outbox_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_jobs_status'))

    op.drop_table('outbox_jobs')
