"""refund_events: every refund status change, as payments have payment_events

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

Refunds changed status by assignment in several places; they now move only through the refund transition
table (``payments/refund_states.py``), which appends one row here per applied edge. Refunds made before
this migration get one ``history_started`` row with their status at that moment.
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "refund_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("refund_id", ID, nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["refund_id"], ["refunds.id"], name=op.f("fk_refund_events_refund_id_refunds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_events")),
    )
    op.create_index(op.f("ix_refund_events_refund_id"), "refund_events", ["refund_id"])
    op.execute("INSERT INTO refund_events (refund_id, from_status, to_status, event, actor, occurred_at) "
               "SELECT id, NULL, status, 'history_started', 'migration 0020', updated_at FROM refunds")


def downgrade():
    op.drop_index(op.f("ix_refund_events_refund_id"), table_name="refund_events")
    op.drop_table("refund_events")
