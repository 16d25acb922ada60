"""Back-office system pages: staff and their roles, sessions, and the audit log (system admins only)."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from identity import audit
from identity.role_requests import decide_grant, pending_grants, propose_grant
from identity.roles import (
    FINANCE_APPROVER,
    FINANCE_OFFICER,
    POLICY_APPROVER,
    POLICY_EDITOR,
    ROLES,
    SYSTEM_ADMIN,
)
from identity.sessions import end_sessions_of
from identity.staff import get_staff, list_staff, revoke_role
from web.auth import current_principal, require_role
from web.database import db_session

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

#: What each role may do, for the people assigning them (identity.roles.ROLE_DESCRIPTIONS, translated).
ROLE_DESCRIPTIONS = {
    FINANCE_OFFICER: _l("Sees transactions, works reconciliation breaks and prepares refunds."),
    FINANCE_APPROVER: _l("Approves refunds and signs off reconciliations prepared by an officer."),
    POLICY_EDITOR: _l("Drafts, tests and simulates subsidy rules."),
    POLICY_APPROVER: _l("Approves subsidy rules drafted by someone else before they take effect."),
    SYSTEM_ADMIN: _l("Manages staff accounts, roles, API clients and reads the audit log."),
}


@bp.get("/")
@require_role()
def home():
    """The back-office start page: who you are and what your roles let you do."""
    staff = current_principal().staff
    return render_template("admin/home.html", staff=staff, descriptions=ROLE_DESCRIPTIONS)


@bp.get("/staff")
@require_role(SYSTEM_ADMIN)
def staff_list():
    """Every staff account with its roles and the forms to change them."""
    proposals = pending_grants(db_session())
    return render_template("admin/staff.html", accounts=list_staff(db_session()), roles=ROLES,
                           descriptions=ROLE_DESCRIPTIONS, proposals=proposals, me=current_principal().staff,
                           proposed={(p.staff_account_id, p.role) for p in proposals})


@bp.post("/staff/<int:staff_id>/roles")
@require_role(SYSTEM_ADMIN)
def change_role(staff_id: int):
    """Propose a role for a second admin to approve, or revoke one at once (audited; a revocation ends the
    account's sessions)."""
    account = get_staff(db_session(), staff_id)
    role, action = request.form.get("role", ""), request.form.get("action")
    actor = current_principal().staff
    if action == "grant":
        propose_grant(db_session(), account, role, proposed_by=actor, request_id=g.get("request_id"))
    elif action == "revoke":
        revoke_role(db_session(), account, role, revoked_by=actor, request_id=g.get("request_id"))
    else:
        abort(400)
    return redirect(url_for("admin.staff_list"))


@bp.post("/role-requests/<int:request_id>")
@require_role(SYSTEM_ADMIN)
def decide_role_request(request_id: int):
    """A second admin approves (the role is granted) or rejects another admin's proposal."""
    decision = request.form.get("decision")
    if decision not in ("approve", "reject"):
        abort(400)
    decide_grant(db_session(), request_id, approve=decision == "approve", decided_by=current_principal().staff,
                 request_id=g.get("request_id"))
    return redirect(url_for("admin.staff_list"))


@bp.post("/staff/<int:staff_id>/sessions/end")
@require_role(SYSTEM_ADMIN)
def end_staff_sessions(staff_id: int):
    """End every live session of a staff account (ASVS 7.4.5)."""
    account = get_staff(db_session(), staff_id)
    end_sessions_of(db_session(), staff_account_id=account.id, reason="revoked", request_id=g.get("request_id"))
    return redirect(url_for("admin.staff_list"))


@bp.get("/audit")
@require_role(SYSTEM_ADMIN)
def audit_log():
    """The newest security events."""
    event_name = request.args.get("event") or None
    return render_template("admin/audit.html", events=audit.recent(db_session(), limit=200, event_name=event_name))
