"""Role grants need two admins: one proposes, another (not the person concerned) approves; all audited."""

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from identity.errors import RoleRequestDecided, SelfGrant
from identity.models import AuditEvent, RoleGrantRequest
from identity.role_requests import decide_grant, pending_grants, propose_grant
from identity.roles import FINANCE_APPROVER, SYSTEM_ADMIN
from identity.staff import create_admin, grant_role, provision_staff

ISSUER = "https://workforce.example"


@pytest.fixture()
def admins(db):
    first, _ = create_admin(db, issuer=ISSUER, subject="admin-1", display_name="Admin One")
    second, _ = create_admin(db, issuer=ISSUER, subject="admin-2", display_name="Admin Two")
    clerk = provision_staff(db, issuer=ISSUER, subject="clerk", display_name="Clerk")
    return first, second, clerk


def test_a_proposed_role_is_granted_when_a_second_admin_approves_and_both_steps_are_audited(db, admins):
    first, second, clerk = admins
    proposal = propose_grant(db, clerk, FINANCE_APPROVER, proposed_by=first)
    assert clerk.role_names == set() and pending_grants(db) == [proposal]
    decide_grant(db, proposal.id, approve=True, decided_by=second)
    assert clerk.role_names == {FINANCE_APPROVER} and pending_grants(db) == []
    events = {e.event: e for e in db.scalars(select(AuditEvent).where(AuditEvent.target == f"staff:{clerk.id}"))}
    assert events["role_grant_proposed"].actor == f"staff:{first.id}"
    assert events["role_granted"].actor == f"staff:{second.id}"
    assert events["role_grant_approved"].details["proposed_by"] == first.id


def test_an_admin_can_neither_grant_nor_propose_a_role_for_himself(db, admins):
    first, _, _ = admins
    with pytest.raises(SelfGrant):
        grant_role(db, first, FINANCE_APPROVER, granted_by=first)
    with pytest.raises(SelfGrant):
        propose_grant(db, first, FINANCE_APPROVER, proposed_by=first)
    assert FINANCE_APPROVER not in first.role_names


def test_neither_the_proposer_nor_the_person_concerned_may_approve(db, admins):
    first, second, _ = admins
    for_second = propose_grant(db, second, FINANCE_APPROVER, proposed_by=first)
    with pytest.raises(SelfGrant):
        decide_grant(db, for_second.id, approve=True, decided_by=first)  # his own proposal
    with pytest.raises(SelfGrant):
        decide_grant(db, for_second.id, approve=True, decided_by=second)  # the role would be his
    assert FINANCE_APPROVER not in second.role_names


def test_a_rejected_proposal_grants_nothing_and_cannot_be_decided_again(db, admins):
    first, second, clerk = admins
    proposal = propose_grant(db, clerk, SYSTEM_ADMIN, proposed_by=first)
    decide_grant(db, proposal.id, approve=False, decided_by=second)
    assert proposal.status == "rejected" and clerk.role_names == set()
    with pytest.raises(RoleRequestDecided):
        decide_grant(db, proposal.id, approve=True, decided_by=second)


def test_proposing_again_reuses_the_pending_proposal_and_a_held_role_needs_none(db, admins):
    first, second, clerk = admins
    proposal = propose_grant(db, clerk, FINANCE_APPROVER, proposed_by=first)
    assert propose_grant(db, clerk, FINANCE_APPROVER, proposed_by=second) is proposal
    assert propose_grant(db, first, SYSTEM_ADMIN, proposed_by=second) is None  # he holds it already


def test_the_database_refuses_a_proposal_decided_by_its_proposer(db, admins):
    first, _, clerk = admins
    proposal = propose_grant(db, clerk, FINANCE_APPROVER, proposed_by=first)
    with pytest.raises(IntegrityError), db.begin_nested():
        db.execute(update(RoleGrantRequest).where(RoleGrantRequest.id == proposal.id)
                   .values(status="approved", decided_by_id=first.id))
