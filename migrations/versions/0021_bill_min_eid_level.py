"""bills.min_eid_level: the e-ID level a bill's service required when it was priced

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

The minimum e-ID level of a service was checked only by the pages; it is now pinned on the bill with its
price and checked by the payments services (the bill page's use case, the requote and the start of every
payment). Existing bills take their service's level from the catalogue, 1 where the service is unknown.
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

CHECK = "min_eid_level IN (1, 2)"


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # A column CHECK: SQLite adds (and later drops) it with the column, without copying the table, which
        # payments, receipts and refunds reference.
        op.execute("ALTER TABLE bills ADD COLUMN min_eid_level INTEGER DEFAULT 1 NOT NULL "
                   f"CONSTRAINT ck_bills_min_eid_level_known CHECK ({CHECK})")
    else:
        op.add_column("bills", sa.Column("min_eid_level", sa.Integer(), server_default="1", nullable=False))
        op.create_check_constraint(op.f("ck_bills_min_eid_level_known"), "bills", CHECK)
    op.execute("UPDATE bills SET min_eid_level = (SELECT services.min_eid_level FROM services "
               "WHERE services.code = bills.service_code) "
               "WHERE EXISTS (SELECT 1 FROM services WHERE services.code = bills.service_code)")


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_bills_min_eid_level_known"), "bills", type_="check")
    op.drop_column("bills", "min_eid_level")
