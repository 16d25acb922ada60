"""Staff roles: only admins grant and revoke, the last admin stays, and every change lands in the audit log."""

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from identity import audit
from identity.audit import AuditLogImmutable
from identity.devidp.accounts import STAFF
from identity.devidp.seed import seed_demo_staff
from identity.errors import InvalidRole, RoleRequired
from identity.models import AuditEvent
from identity.roles import FINANCE_OFFICER, ROLES, SYSTEM_ADMIN
from identity.sessions import LoginFacts, load_session, open_session
from identity.staff import create_admin, grant_role, provision_staff, revoke_role

ISSUER = "https://workforce.example"


def staff(db, subject="s1"):
    return provision_staff(db, issuer=ISSUER, subject=subject, display_name=subject)


def events(db, name):
    return db.scalars(select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id)).all()


def test_the_cli_makes_the_first_admin_once(db):
    admin, changed = create_admin(db, issuer=ISSUER, subject="boss", display_name="Boss")
    assert changed and admin.role_names == {SYSTEM_ADMIN}
    assert create_admin(db, issuer=ISSUER, subject="boss", display_name="Boss")[1] is False
    assert events(db, "role_granted")[0].actor == "cli"


def test_an_admin_grants_and_revokes_and_both_are_audited(db):
    admin, _ = create_admin(db, issuer=ISSUER, subject="boss", display_name="Boss")
    clerk = staff(db)
    assert grant_role(db, clerk, FINANCE_OFFICER, granted_by=admin)
    assert not grant_role(db, clerk, FINANCE_OFFICER, granted_by=admin)
    token, _ = open_session(db, LoginFacts("staff", ISSUER, "s1", "a.b.c", 0), staff_account_id=clerk.id)
    assert revoke_role(db, clerk, FINANCE_OFFICER, revoked_by=admin)
    assert clerk.role_names == set()
    granted, revoked = events(db, "role_granted")[-1], events(db, "role_revoked")[0]
    assert (granted.actor, granted.target, granted.details) == (f"staff:{admin.id}", f"staff:{clerk.id}",
                                                                 {"role": FINANCE_OFFICER})
    assert revoked.target == f"staff:{clerk.id}"
    assert load_session(db, token) is None  # a revocation ends the account's sessions


def test_only_admins_change_roles(db):
    clerk, other = staff(db), staff(db, "s2")
    grant_role(db, clerk, FINANCE_OFFICER, granted_by=None)
    with pytest.raises(RoleRequired):
        grant_role(db, other, SYSTEM_ADMIN, granted_by=clerk)


def test_the_last_admin_cannot_lose_the_role(db):
    admin, _ = create_admin(db, issuer=ISSUER, subject="boss", display_name="Boss")
    with pytest.raises(RoleRequired) as refused:
        revoke_role(db, admin, SYSTEM_ADMIN, revoked_by=admin)
    assert refused.value.code == "last_admin"


def test_roles_are_a_closed_list(db):
    with pytest.raises(InvalidRole):
        grant_role(db, staff(db), "superuser", granted_by=None)


def test_demo_staff_cover_every_role_and_seeding_is_idempotent(db):
    assert {s.role for s in STAFF} == set(ROLES)
    assert seed_demo_staff(db, ISSUER) == len(STAFF)
    assert seed_demo_staff(db, ISSUER) == 0


def test_audit_rows_cannot_be_changed_from_python(db):
    row = audit.record(db, "login", actor="citizen:1")
    row.reason = "tampered"
    with pytest.raises(AuditLogImmutable):
        db.flush()
    db.rollback()


def test_audit_rows_cannot_be_changed_in_the_database(db):
    row = audit.record(db, "login", actor="citizen:1")
    for statement in (update(AuditEvent).where(AuditEvent.id == row.id).values(reason="x"),
                      text("DELETE FROM audit_events")):
        nested = db.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            db.execute(statement)
        nested.rollback()
