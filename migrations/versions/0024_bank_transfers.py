"""bank_transfers: each transfer a bank feed reported, once, and what it did

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07

VietQR payments are confirmed by the bank side: a feed's webhook reports each transfer on an agency's
account. One row per transfer (a retried delivery, or a second feed naming the same bank reference, is the
same row) with its outcome: paid its payment, or held in suspense for a finance officer.
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "bank_transfers",
        sa.Column("id", ID, nullable=False),
        sa.Column("connection", sa.String(length=64), nullable=False),
        sa.Column("feed_id", sa.String(length=64), nullable=False),
        sa.Column("bank", sa.String(length=64), nullable=False),
        sa.Column("account_number", sa.String(length=32), nullable=False),
        sa.Column("credit", sa.Boolean(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("booked_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("memo", sa.String(length=1000), nullable=False),
        sa.Column("bank_reference", sa.String(length=64), nullable=True),
        sa.Column("payment_code", sa.String(length=32), nullable=True),
        sa.Column("payment_id", ID, nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("received_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_bank_transfers_amount_positive")),
        sa.CheckConstraint("outcome IN ('paid', 'held', 'not_a_credit')", name=op.f("ck_bank_transfers_outcome_known")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_bank_transfers_payment_id_payments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_transfers")),
        sa.UniqueConstraint("connection", "feed_id", name=op.f("uq_bank_transfers_connection_feed_id")),
    )
    op.create_index("uq_bank_transfers_bank_reference", "bank_transfers", ["account_number", "bank_reference"],
                    unique=True, postgresql_where=sa.text("bank_reference IS NOT NULL"),
                    sqlite_where=sa.text("bank_reference IS NOT NULL"))
    op.create_index(op.f("ix_bank_transfers_payment_code"), "bank_transfers", ["payment_code"])
    op.create_index(op.f("ix_bank_transfers_payment_id"), "bank_transfers", ["payment_id"])


def downgrade():
    op.drop_table("bank_transfers")
