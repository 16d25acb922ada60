"""bills.quote_id holds the pinned subsidies quote's id (a UUID string), copied from explanation where present

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29

The column was a BigInteger that nothing wrote, while quote ids are UUID strings kept only in
``explanation["quote_id"]``. The same steps run on both backends (SQLite cannot change a column's type
in place, and rebuilding ``bills`` would trip the foreign keys that point at it): add a string column,
copy into it, drop the old one, rename.
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _explanation_quote_id() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "explanation->>'quote_id'"
    return "json_extract(explanation, '$.quote_id')"


def _drop_quote_id() -> None:
    # Plain SQL on both (SQLite >= 3.35 drops an unindexed column in place; Alembic would rebuild the table).
    op.execute("ALTER TABLE bills DROP COLUMN quote_id")


def upgrade() -> None:
    op.add_column('bills', sa.Column('quote_ref', sa.String(length=36), nullable=True))
    # A quote id in the explanation wins; an integer a caller may have stored in the old column is kept as text.
    quoted = _explanation_quote_id()
    op.execute(f"UPDATE bills SET quote_ref = CAST(coalesce({quoted}, CAST(quote_id AS VARCHAR(36))) AS VARCHAR(36))"
               f" WHERE {quoted} IS NOT NULL OR quote_id IS NOT NULL")
    _drop_quote_id()
    op.execute("ALTER TABLE bills RENAME COLUMN quote_ref TO quote_id")


def downgrade() -> None:
    # Quote ids are not integers: the old column cannot hold them (explanation still has them).
    op.add_column('bills', sa.Column('quote_number', sa.BigInteger(), nullable=True))
    _drop_quote_id()
    op.execute("ALTER TABLE bills RENAME COLUMN quote_number TO quote_id")
