"""reconciliation imports

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 06:24:48.314711
"""

from alembic import op
import sqlalchemy as sa
import core.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_files',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('format', sa.String(length=60), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('imported_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.String(length=100), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_files')),
    sa.UniqueConstraint('sha256', name=op.f('uq_report_files_sha256'))
    )
    op.create_table('report_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('file_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('statement_index', sa.Integer(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.Column('value_on', sa.Date(), nullable=True),
    sa.Column('occurred_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('fee', sa.BigInteger(), nullable=False),
    sa.Column('net', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('payment_code', sa.String(length=20), nullable=True),
    sa.Column('bank_reference', sa.String(length=100), nullable=True),
    sa.Column('provider_reference', sa.String(length=100), nullable=True),
    sa.Column('end_to_end_id', sa.String(length=100), nullable=True),
    sa.Column('payout_id', sa.String(length=64), nullable=True),
    sa.Column('category', sa.String(length=40), nullable=True),
    sa.Column('reversal', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind IN ('bank', 'provider')", name=op.f('ck_report_lines_kind_known')),
    sa.CheckConstraint('net = amount - fee', name=op.f('ck_report_lines_net_is_amount_less_fee')),
    sa.ForeignKeyConstraint(['file_id'], ['report_files.id'], name=op.f('fk_report_lines_file_id_report_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_lines')),
    sa.UniqueConstraint('file_id', 'statement_index', 'row', name=op.f('uq_report_lines_file_id_statement_index_row'))
    )
    with op.batch_alter_table('report_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_lines_booked_on'), ['booked_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_lines_file_id'), ['file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_lines_payment_code'), ['payment_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_lines_payout_id'), ['payout_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_lines_provider_reference'), ['provider_reference'], unique=False)

    op.create_table('report_statements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('file_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('index', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('opening', sa.BigInteger(), nullable=True),
    sa.Column('closing', sa.BigInteger(), nullable=True),
    sa.Column('reconciles', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['file_id'], ['report_files.id'], name=op.f('fk_report_statements_file_id_report_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_statements')),
    sa.UniqueConstraint('file_id', 'index', name=op.f('uq_report_statements_file_id_index'))
    )
    with op.batch_alter_table('report_statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_statements_file_id'), ['file_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('report_statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_statements_file_id'))

    op.drop_table('report_statements')
    with op.batch_alter_table('report_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_lines_provider_reference'))
        batch_op.drop_index(batch_op.f('ix_report_lines_payout_id'))
        batch_op.drop_index(batch_op.f('ix_report_lines_payment_code'))
        batch_op.drop_index(batch_op.f('ix_report_lines_file_id'))
        batch_op.drop_index(batch_op.f('ix_report_lines_booked_on'))

    op.drop_table('report_lines')
    op.drop_table('report_files')
