"""rule_versions.replaces_id: a version drafted from a published one replaces it, and ends it once published

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-01

The predecessor's stored definition is not changed (its end is derived inside each rule set), so the
immutability trigger stays as strict as before and now also freezes ``replaces_id`` once a version is
approved. SQLite gets the column with its foreign key in one ``ADD COLUMN`` (Alembic's batch mode would
rebuild ``rule_versions`` and drop its triggers); PostgreSQL adds the constraint separately. The trigger
functions are replaced whole; the downgrade puts back those of 0003.
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0015'
branch_labels = None
depends_on = None

_FROZEN = "('approved', 'published', 'retired')"
_FK = "fk_rule_versions_replaces_id_rule_versions"
_INDEX = "ix_rule_versions_replaces_id"


def _pg_function(extra: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION rule_versions_immutable() RETURNS trigger AS $$
    BEGIN
      IF OLD.status IN {_FROZEN} AND (
           NEW.definition::text <> OLD.definition::text OR NEW.effective_from <> OLD.effective_from
           OR NEW.effective_to IS DISTINCT FROM OLD.effective_to OR NEW.rule_id <> OLD.rule_id
           OR NEW.version <> OLD.version OR NEW.author_id <> OLD.author_id
           OR NEW.approver_id IS DISTINCT FROM OLD.approver_id{extra}) THEN
        RAISE EXCEPTION 'rule version %@% is % and cannot change', OLD.rule_id, OLD.version, OLD.status;
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql"""


def _sqlite_trigger(extra: str) -> str:
    return f"""
    CREATE TRIGGER rule_versions_immutable BEFORE UPDATE ON rule_versions
    WHEN OLD.status IN {_FROZEN} AND (
      NEW.definition IS NOT OLD.definition OR NEW.effective_from IS NOT OLD.effective_from
      OR NEW.effective_to IS NOT OLD.effective_to OR NEW.rule_id IS NOT OLD.rule_id
      OR NEW.version IS NOT OLD.version OR NEW.author_id IS NOT OLD.author_id
      OR NEW.approver_id IS NOT OLD.approver_id{extra})
    BEGIN SELECT RAISE(ABORT, 'rule version is approved or published and cannot change'); END"""


def _set_trigger(postgresql: bool, extra: str) -> None:
    if postgresql:
        op.execute(_pg_function(extra))
    else:
        op.execute("DROP TRIGGER IF EXISTS rule_versions_immutable")
        op.execute(_sqlite_trigger(extra))


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.add_column('rule_versions', sa.Column('replaces_id', sa.BigInteger(), nullable=True))
        op.create_foreign_key(_FK, 'rule_versions', 'rule_versions', ['replaces_id'], ['id'])
    else:
        op.execute(f"ALTER TABLE rule_versions ADD COLUMN replaces_id INTEGER CONSTRAINT {_FK} "
                   "REFERENCES rule_versions (id)")
    op.create_index(_INDEX, 'rule_versions', ['replaces_id'], unique=False)
    _set_trigger(postgresql, "\n           OR NEW.replaces_id IS DISTINCT FROM OLD.replaces_id" if postgresql
                 else "\n      OR NEW.replaces_id IS NOT OLD.replaces_id")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    _set_trigger(postgresql, "")
    op.drop_index(_INDEX, table_name='rule_versions')
    if postgresql:
        op.drop_constraint(_FK, 'rule_versions', type_='foreignkey')
    # SQLite >= 3.35 drops a column in place once its index is gone (a column-level foreign key is allowed).
    op.execute("ALTER TABLE rule_versions DROP COLUMN replaces_id")
