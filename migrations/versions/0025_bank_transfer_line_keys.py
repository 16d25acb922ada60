"""bank_transfers.line_key: the statement line a feed's transfer was booked as

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07

A bank feed books a transfer under its line's identity (reference, day, amount) before any statement
arrives; the statement may date the same transfer differently (after the bank's cut-off, the next day).
Reconciliation now finds the feed's transfer by the bank's reference and amount and keeps the feed's key
for the line, so the transfer is booked once and its break stays one break. Existing rows get the key
their booking used: the reference, the Vietnamese day of ``booked_at`` and the amount.
"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

VIETNAM_OFFSET = timedelta(hours=7)  # Asia/Ho_Chi_Minh has had no daylight saving time since 1975


def upgrade():
    with op.batch_alter_table("bank_transfers") as batch_op:
        batch_op.add_column(sa.Column("line_key", sa.String(length=200), nullable=True))
    transfers = sa.table("bank_transfers", sa.column("id", sa.BigInteger()), sa.column("bank_reference", sa.String()),
                         sa.column("booked_at", core.db.UTCDateTime(timezone=True)),
                         sa.column("amount", sa.BigInteger()), sa.column("line_key", sa.String()))
    connection = op.get_bind()
    for row in connection.execute(sa.select(transfers.c.id, transfers.c.bank_reference, transfers.c.booked_at,
                                            transfers.c.amount)).all():
        day = (row.booked_at + VIETNAM_OFFSET).date().isoformat()
        connection.execute(transfers.update().where(transfers.c.id == row.id)
                           .values(line_key=f"{row.bank_reference or ''}|{day}|{row.amount}"))


def downgrade():
    with op.batch_alter_table("bank_transfers") as batch_op:
        batch_op.drop_column("line_key")
