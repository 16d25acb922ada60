"""The closed-day check on ledger postings looks each posting's transaction up by its key

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29

The statement trigger of 0011 joined the inserted postings to ``ledger_transactions`` in one query. The
planner knows nothing about a transition table's size, so it hashed the whole of ``ledger_transactions``
for every INSERT of postings: a sequential scan per payment, slower with every transaction the ledger
holds (found by the payments benchmark's table statistics: 133 million rows of ledger_transactions read
for about 10,800 posting INSERTs; after this migration, none). A LATERAL look-up by primary key, fenced
so the planner cannot turn it back into a join, keeps it one index probe per posting. SQLite's row trigger
already looks up by key. (A unit test did not reproduce the plan a long-lived connection had cached.)
"""

from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_BODY = """
CREATE OR REPLACE FUNCTION ledger_refuse_closed_day() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    closed date;
BEGIN
    SELECT c.day INTO closed
      FROM new_postings p
     CROSS JOIN LATERAL ({transaction}) t
      JOIN ledger_closed_days c ON c.day = t.effective_date
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger period closed: % is signed off; post a correction into the next open day', closed
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
"""
# OFFSET 0 keeps the planner from pulling the sub-select up into a join (which it would hash again).
_BY_KEY = "SELECT t.effective_date FROM ledger_transactions t WHERE t.id = p.transaction_id OFFSET 0"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_BODY.format(transaction=_BY_KEY))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # 0011's single join
        op.execute(_BODY.replace(" CROSS JOIN LATERAL ({transaction}) t",
                                 " JOIN ledger_transactions t ON t.id = p.transaction_id"))
