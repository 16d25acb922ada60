"""email: citizens' e-mail consent for receipts and reminders, and the record of each e-mail sent

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-08

``email_consents`` keeps each address a citizen agreed to be e-mailed at, when, in which language, and
when the consent was withdrawn (at most one in force per citizen). ``mail_deliveries`` records every
e-mail handed to the relay, one per receipt and one per bill and reminder lead time, so a job that runs
again sends nothing twice.
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        "email_consents",
        sa.Column("id", ID, nullable=False),
        sa.Column("citizen_id", ID, nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("granted_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("language IN ('vi', 'en')", name=op.f("ck_email_consents_language_known")),
        sa.CheckConstraint("withdrawn_at IS NULL OR withdrawn_at >= granted_at",
                           name=op.f("ck_email_consents_withdrawn_after_granted")),
        sa.ForeignKeyConstraint(["citizen_id"], ["citizens.id"], name=op.f("fk_email_consents_citizen_id_citizens")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_consents")),
    )
    op.create_index(op.f("ix_email_consents_citizen_id"), "email_consents", ["citizen_id"])
    op.create_index("uq_email_consents_one_in_force", "email_consents", ["citizen_id"], unique=True,
                    postgresql_where=sa.text("withdrawn_at IS NULL"), sqlite_where=sa.text("withdrawn_at IS NULL"))
    op.create_table(
        "mail_deliveries",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("citizen_id", sa.BigInteger(), nullable=False),
        sa.Column("consent_id", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('receipt', 'reminder')", name=op.f("ck_mail_deliveries_kind_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_deliveries")),
        sa.UniqueConstraint("kind", "reference", name=op.f("uq_mail_deliveries_kind_reference")),
    )
    op.create_index(op.f("ix_mail_deliveries_citizen_id"), "mail_deliveries", ["citizen_id"])


def downgrade():
    op.drop_index(op.f("ix_mail_deliveries_citizen_id"), table_name="mail_deliveries")
    op.drop_table("mail_deliveries")
    op.drop_index("uq_email_consents_one_in_force", table_name="email_consents")
    op.drop_index(op.f("ix_email_consents_citizen_id"), table_name="email_consents")
    op.drop_table("email_consents")
