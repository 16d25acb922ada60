"""Staff accounts and roles: provisioning, the first admin, role grants and revocations, all audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from identity import audit
from identity.errors import InvalidRole, RoleRequired, SelfGrant, StaffNotFound
from identity.models import StaffAccount, StaffRole
from identity.roles import ROLES, SYSTEM_ADMIN
from identity.sessions import end_sessions_of


def find_staff(session: Session, issuer: str, subject: str) -> StaffAccount | None:
    """Return the staff account known by ``(iss, sub)``."""
    return session.scalar(select(StaffAccount).where(StaffAccount.issuer == issuer, StaffAccount.subject == subject))


def get_staff(session: Session, staff_id: int) -> StaffAccount:
    """Return the staff account ``staff_id`` or raise ``StaffNotFound``."""
    account = session.get(StaffAccount, staff_id)
    if account is None:
        raise StaffNotFound(f"no staff account {staff_id}")
    return account


def list_staff(session: Session) -> list[StaffAccount]:
    """Return every staff account by name."""
    return list(session.scalars(select(StaffAccount).order_by(StaffAccount.display_name, StaffAccount.id)))


def provision_staff(session: Session, *, issuer: str, subject: str, display_name: str, email: str | None = None,
                    clock: Clock = SYSTEM_CLOCK) -> StaffAccount:
    """Return the account for ``(iss, sub)``, creating it with no roles on first sight."""
    account = find_staff(session, issuer, subject)
    if account is None:
        account = StaffAccount(issuer=issuer, subject=subject, display_name=display_name[:200] or subject,
                               email=email, active=True, created_at=clock.now())
        session.add(account)
        session.flush()
        audit.record(session, "staff_account_created", actor="system", target=f"staff:{account.id}", clock=clock)
    else:
        account.display_name = display_name[:200] or account.display_name
        account.email = email or account.email
    return account


def check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidRole(f"unknown role {role!r}; roles are {', '.join(ROLES)}")


def grant_role(session: Session, account: StaffAccount, role: str, *, granted_by: StaffAccount | None,
               request_id: str | None = None, clock: Clock = SYSTEM_CLOCK) -> bool:
    """Give ``role`` to ``account``; return False if it already had it. Only admins (or the CLI) grant,
    never to themselves; in the back office an admin grants by approving another's proposal
    (``identity.role_requests``)."""
    check_role(role)
    require_admin(granted_by)
    if granted_by is not None and granted_by.id == account.id:
        raise SelfGrant("nobody grants a role to himself", code="role_self_grant")
    if role in account.role_names:
        return False
    account.roles.append(StaffRole(role=role, granted_by_id=granted_by.id if granted_by else None,
                                   granted_at=clock.now()))
    session.flush()
    audit.record(session, "role_granted", actor=_label(granted_by), target=f"staff:{account.id}",
                 details={"role": role}, request_id=request_id, clock=clock)
    return True


def revoke_role(session: Session, account: StaffAccount, role: str, *, revoked_by: StaffAccount,
                request_id: str | None = None, clock: Clock = SYSTEM_CLOCK) -> bool:
    """Take ``role`` from ``account``; return False if it did not have it. The last admin cannot go."""
    check_role(role)
    require_admin(revoked_by)
    grant = next((g for g in account.roles if g.role == role), None)
    if grant is None:
        return False
    if role == SYSTEM_ADMIN and count_admins(session) <= 1:
        raise RoleRequired("the last system admin keeps the role: grant it to someone else first",
                           code="last_admin")
    account.roles.remove(grant)
    session.flush()
    audit.record(session, "role_revoked", actor=_label(revoked_by), target=f"staff:{account.id}",
                 details={"role": role}, request_id=request_id, clock=clock)
    # Roles are read per request, but ending sessions makes a revocation take effect for certain.
    end_sessions_of(session, staff_account_id=account.id, reason="roles_changed", request_id=request_id, clock=clock)
    return True


def count_admins(session: Session) -> int:
    """Return how many accounts hold system_admin."""
    return len(session.scalars(select(StaffRole).where(StaffRole.role == SYSTEM_ADMIN)).all())


def create_admin(session: Session, *, issuer: str, subject: str, display_name: str,
                 clock: Clock = SYSTEM_CLOCK) -> tuple[StaffAccount, bool]:
    """Make ``(iss, sub)`` a system admin from the command line; return the account and whether it changed."""
    account = provision_staff(session, issuer=issuer, subject=subject, display_name=display_name, clock=clock)
    return account, grant_role(session, account, SYSTEM_ADMIN, granted_by=None, clock=clock)


def require_admin(actor: StaffAccount | None) -> None:
    # ``None`` is the operator at the command line, who already holds the server.
    if actor is not None and (not actor.active or SYSTEM_ADMIN not in actor.role_names):
        raise RoleRequired("only a system admin changes roles")


def _label(actor: StaffAccount | None) -> str:
    return f"staff:{actor.id}" if actor is not None else "cli"
