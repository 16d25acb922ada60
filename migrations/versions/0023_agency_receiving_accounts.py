"""agency_accounts: the bank account each agency receives citizens' VietQR transfers on

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07

One row per agency code, entered by a system admin in the back office (Agencies -> receiving accounts):
the bank's NAPAS BIN, the account number and the holder's name as the bank registers it.
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "agency_accounts",
        sa.Column("id", ID, nullable=False),
        sa.Column("agency_code", sa.String(length=50), nullable=False),
        sa.Column("bank_bin", sa.String(length=6), nullable=False),
        sa.Column("account_number", sa.String(length=19), nullable=False),
        sa.Column("holder_name", sa.String(length=50), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(bank_bin) = 6", name=op.f("ck_agency_accounts_bank_bin_six_digits")),
        sa.CheckConstraint("length(account_number) BETWEEN 1 AND 19",
                           name=op.f("ck_agency_accounts_account_number_length")),
        sa.CheckConstraint("length(holder_name) BETWEEN 1 AND 50", name=op.f("ck_agency_accounts_holder_name_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_accounts")),
        sa.UniqueConstraint("agency_code", name=op.f("uq_agency_accounts_agency_code")),
    )


def downgrade():
    op.drop_table("agency_accounts")
