"""ledger periods (closed days), corrections, payout tags, and break resolutions that move money

A day whose reconciliation was signed off is closed: a trigger on ``ledger_postings`` refuses any posting
whose transaction is dated in it, on both backends (PostgreSQL: one statement-level trigger per INSERT;
SQLite: a row trigger). On PostgreSQL closed days can never be deleted, and their day never changes.

Columns are added with plain ALTER TABLE … ADD COLUMN (no batch copy), so the append-only triggers of
migration 0004 on ``ledger_transactions`` stay in place on SQLite.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

PG_FUNCTIONS = """
CREATE FUNCTION ledger_refuse_closed_day() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    closed date;
BEGIN
    SELECT c.day INTO closed
      FROM new_postings p
      JOIN ledger_transactions t ON t.id = p.transaction_id
      JOIN ledger_closed_days c ON c.day = t.effective_date
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger period closed: % is signed off; post a correction into the next open day', closed
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION ledger_keep_closed_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.day <> OLD.day OR NEW.reopens_on < OLD.reopens_on THEN
        RAISE EXCEPTION 'a signed-off day stays closed: % on ledger_closed_days refused', TG_OP
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;
"""

SQLITE_TRIGGER = """
CREATE TRIGGER ledger_postings_open_period BEFORE INSERT ON ledger_postings
WHEN EXISTS (SELECT 1 FROM ledger_transactions t JOIN ledger_closed_days c ON c.day = t.effective_date
             WHERE t.id = NEW.transaction_id)
BEGIN SELECT RAISE(ABORT, 'ledger period closed: the day is signed off; post a correction into the next open day'); END
"""


def upgrade() -> None:
    op.create_table("ledger_closed_days",
    sa.Column("day", sa.Date(), nullable=False),
    sa.Column("reopens_on", sa.Date(), nullable=False),
    sa.Column("run_id", ID, nullable=True),
    sa.Column("closed_by", sa.String(length=100), nullable=False),
    sa.Column("closed_at", core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("reopens_on > day", name=op.f("ck_ledger_closed_days_reopens_after_day")),
    sa.ForeignKeyConstraint(["run_id"], ["recon_runs.id"], name=op.f("fk_ledger_closed_days_run_id_recon_runs")),
    sa.PrimaryKeyConstraint("day", name=op.f("pk_ledger_closed_days"))
    )
    op.create_table("ledger_payout_tags",
    sa.Column("id", ID, nullable=False),
    sa.Column("provider", sa.String(length=30), nullable=False),
    sa.Column("payout_ref", sa.String(length=64), nullable=False),
    sa.Column("transaction_id", ID, nullable=False),
    sa.Column("tagged_at", core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["transaction_id"], ["ledger_transactions.id"],
                            name=op.f("fk_ledger_payout_tags_transaction_id_ledger_transactions")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_payout_tags")),
    sa.UniqueConstraint("transaction_id", name=op.f("uq_ledger_payout_tags_transaction_id"))
    )
    op.create_index("ix_ledger_payout_tags_provider_payout_ref", "ledger_payout_tags", ["provider", "payout_ref"])
    _add_reference("ledger_transactions", "corrects_id", "ledger_transactions", index=True)
    op.add_column("recon_breaks", sa.Column("movement", sa.String(length=30), nullable=True))
    op.add_column("recon_breaks", sa.Column("movement_account", sa.String(length=200), nullable=True))
    op.add_column("recon_breaks", sa.Column("movement_amount", sa.BigInteger(), nullable=True))
    _add_reference("recon_breaks", "ledger_transaction_id", "ledger_transactions")
    _add_reference("break_events", "ledger_transaction_id", "ledger_transactions")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTIONS)
        op.execute("CREATE TRIGGER ledger_postings_open_period AFTER INSERT ON ledger_postings "
                   "REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT "
                   "EXECUTE FUNCTION ledger_refuse_closed_day()")
        op.execute("CREATE TRIGGER ledger_closed_days_kept BEFORE UPDATE OR DELETE ON ledger_closed_days "
                   "FOR EACH ROW EXECUTE FUNCTION ledger_keep_closed_days()")
    else:
        op.execute(SQLITE_TRIGGER)


def _add_reference(table: str, column: str, target: str, index: bool = False) -> None:
    """Add a nullable foreign key column in place (SQLite accepts REFERENCES in ADD COLUMN, not ADD CONSTRAINT)."""
    name = f"fk_{table}_{column}_{target}"
    if op.get_bind().dialect.name == "postgresql":
        op.add_column(table, sa.Column(column, ID, sa.ForeignKey(f"{target}.id", name=name), nullable=True))
    else:
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER CONSTRAINT {name} REFERENCES {target} (id)")
    if index:
        op.create_index(f"ix_{table}_{column}", table, [column])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_postings_open_period ON ledger_postings")
        op.execute("DROP TRIGGER IF EXISTS ledger_closed_days_kept ON ledger_closed_days")
        op.execute("DROP FUNCTION IF EXISTS ledger_refuse_closed_day()")
        op.execute("DROP FUNCTION IF EXISTS ledger_keep_closed_days()")
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_postings_open_period")
    op.drop_index("ix_ledger_transactions_corrects_id", table_name="ledger_transactions")
    # In place on both backends (SQLite >= 3.35): a batch copy would lose the ledger's append-only triggers.
    for table, column in (("break_events", "ledger_transaction_id"), ("recon_breaks", "ledger_transaction_id"),
                          ("recon_breaks", "movement_amount"), ("recon_breaks", "movement_account"),
                          ("recon_breaks", "movement"), ("ledger_transactions", "corrects_id")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_index("ix_ledger_payout_tags_provider_payout_ref", table_name="ledger_payout_tags")
    op.drop_table("ledger_payout_tags")
    op.drop_table("ledger_closed_days")
