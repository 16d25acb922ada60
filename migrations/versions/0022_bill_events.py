"""bill_events: every bill status change, as payments and refunds have theirs

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

Bills changed status by assignment in two modules; they now move only through the bill transition table
(``payments/bill_states.py``), which appends one row here per applied edge, creation included. Bills made
before this migration get one ``history_started`` row with their status at that moment.
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "bill_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("bill_id", ID, nullable=False),
        sa.Column("from_status", sa.String(length=10), nullable=True),
        sa.Column("to_status", sa.String(length=10), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["bill_id"], ["bills.id"], name=op.f("fk_bill_events_bill_id_bills")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bill_events")),
    )
    op.create_index(op.f("ix_bill_events_bill_id"), "bill_events", ["bill_id"])
    op.execute("INSERT INTO bill_events (bill_id, from_status, to_status, event, actor, occurred_at) "
               "SELECT id, NULL, status, 'history_started', 'migration 0022', updated_at FROM bills")


def downgrade():
    op.drop_index(op.f("ix_bill_events_bill_id"), table_name="bill_events")
    op.drop_table("bill_events")
