"""Append-only tables refuse TRUNCATE too (PostgreSQL)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

Row triggers refuse UPDATE and DELETE on the ledger, the audit log and the rule history, but TRUNCATE
fires no row trigger: ``TRUNCATE ledger_postings`` wiped the ledger. A statement trigger now refuses it,
also when the table is reached through ``TRUNCATE … CASCADE``. (The application's own role cannot
TRUNCATE at all when it is not the owner; see ``GATEWAY_MIGRATION_DATABASE_URL``. This guards the owner
and anyone else.) SQLite has no TRUNCATE.
"""

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

GUARDED = ("ledger_transactions", "ledger_postings", "ledger_closed_days", "audit_events", "rule_events",
           "rule_versions")

FUNCTION = """
CREATE OR REPLACE FUNCTION refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME;
END $$
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    for table in GUARDED:
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate()")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in GUARDED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    op.execute("DROP FUNCTION IF EXISTS refuse_truncate()")
