"""role_grant_requests: a role is proposed by one admin and approved or rejected by a second

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

An admin could grant himself every role (and then, as finance approver, approve his own refunds). The
back office now only proposes grants; a second admin, neither the proposer nor the person concerned,
decides. The CHECKs hold that rule in the database too.
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ROLES = "('finance_officer', 'finance_approver', 'policy_editor', 'policy_approver', 'system_admin')"


def upgrade():
    op.create_table(
        "role_grant_requests",
        sa.Column("id", ID, nullable=False),
        sa.Column("staff_account_id", ID, nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_by_id", ID, nullable=False),
        sa.Column("requested_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", ID, nullable=True),
        sa.Column("decided_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"role IN {_ROLES}", name=op.f("ck_role_grant_requests_role_known")),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')",
                           name=op.f("ck_role_grant_requests_status_known")),
        sa.CheckConstraint("requested_by_id <> staff_account_id", name=op.f("ck_role_grant_requests_not_for_oneself")),
        sa.CheckConstraint("decided_by_id IS NULL OR (decided_by_id <> requested_by_id "
                           "AND decided_by_id <> staff_account_id)",
                           name=op.f("ck_role_grant_requests_second_person_decides")),
        sa.ForeignKeyConstraint(["staff_account_id"], ["staff_accounts.id"],
                                name=op.f("fk_role_grant_requests_staff_account_id_staff_accounts")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["staff_accounts.id"],
                                name=op.f("fk_role_grant_requests_requested_by_id_staff_accounts")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["staff_accounts.id"],
                                name=op.f("fk_role_grant_requests_decided_by_id_staff_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_grant_requests")),
    )
    op.create_index(op.f("ix_role_grant_requests_staff_account_id"), "role_grant_requests", ["staff_account_id"])
    op.create_index(op.f("ix_role_grant_requests_status"), "role_grant_requests", ["status"])


def downgrade():
    op.drop_index(op.f("ix_role_grant_requests_status"), table_name="role_grant_requests")
    op.drop_index(op.f("ix_role_grant_requests_staff_account_id"), table_name="role_grant_requests")
    op.drop_table("role_grant_requests")
