"""Role grants under four eyes: one admin proposes, a second admin approves or rejects, both audited.

A role is power over money and rules, so no single person can hand one out, least of all to himself: an
admin who could grant himself finance_approver could approve his own refunds. Revoking stays a one-admin
act (taking power away is safe), and the command line (``granted_by=None``, an operator who holds the
server anyway) still makes the first admin and seeds demo staff.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from identity import audit
from identity.errors import RoleRequestDecided, RoleRequestNotFound, SelfGrant
from identity.models import RoleGrantRequest, StaffAccount
from identity.staff import check_role, grant_role, require_admin


def propose_grant(session: Session, account: StaffAccount, role: str, *, proposed_by: StaffAccount,
                  request_id: str | None = None, clock: Clock = SYSTEM_CLOCK) -> RoleGrantRequest | None:
    """Ask for ``role`` to be given to ``account``; None if it holds it already. A pending ask is reused."""
    check_role(role)
    require_admin(proposed_by)
    if proposed_by.id == account.id:
        raise SelfGrant("nobody proposes a role for himself: ask another admin", code="role_self_grant")
    if role in account.role_names:
        return None
    pending = session.scalar(select(RoleGrantRequest).where(
        RoleGrantRequest.staff_account_id == account.id, RoleGrantRequest.role == role,
        RoleGrantRequest.status == "pending"))
    if pending is not None:
        return pending
    proposal = RoleGrantRequest(staff_account_id=account.id, role=role, status="pending",
                                requested_by_id=proposed_by.id, requested_at=clock.now())
    session.add(proposal)
    session.flush()
    audit.record(session, "role_grant_proposed", actor=f"staff:{proposed_by.id}", target=f"staff:{account.id}",
                 details={"role": role, "request": proposal.id}, request_id=request_id, clock=clock)
    return proposal


def decide_grant(session: Session, proposal_id: int, *, approve: bool, decided_by: StaffAccount,
                 request_id: str | None = None, clock: Clock = SYSTEM_CLOCK) -> RoleGrantRequest:
    """Approve (the role is granted, by the approver) or reject a pending proposal."""
    require_admin(decided_by)
    proposal = session.get(RoleGrantRequest, proposal_id, with_for_update=True)
    if proposal is None:
        raise RoleRequestNotFound(f"no role grant request {proposal_id}")
    if proposal.status != "pending":
        raise RoleRequestDecided(f"role grant request {proposal_id} is {proposal.status}")
    if decided_by.id in (proposal.requested_by_id, proposal.staff_account_id):
        raise SelfGrant("a second admin, neither the proposer nor the person concerned, decides",
                        code="role_self_grant")
    proposal.status = "approved" if approve else "rejected"
    proposal.decided_by_id, proposal.decided_at = decided_by.id, clock.now()
    session.flush()
    if approve:
        grant_role(session, proposal.staff_account, proposal.role, granted_by=decided_by, request_id=request_id,
                   clock=clock)
    audit.record(session, f"role_grant_{proposal.status}", actor=f"staff:{decided_by.id}",
                 target=f"staff:{proposal.staff_account_id}",
                 details={"role": proposal.role, "request": proposal.id, "proposed_by": proposal.requested_by_id},
                 request_id=request_id, clock=clock)
    return proposal


def pending_grants(session: Session) -> list[RoleGrantRequest]:
    """Every proposal waiting for a second admin, oldest first."""
    return list(session.scalars(select(RoleGrantRequest).where(RoleGrantRequest.status == "pending")
                                .order_by(RoleGrantRequest.requested_at, RoleGrantRequest.id)))
