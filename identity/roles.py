"""The closed list of staff roles; every back-office route names the roles it accepts."""

from __future__ import annotations

FINANCE_OFFICER = "finance_officer"
FINANCE_APPROVER = "finance_approver"
POLICY_EDITOR = "policy_editor"
POLICY_APPROVER = "policy_approver"
SYSTEM_ADMIN = "system_admin"

#: Every role, in the order the back office lists them.
ROLES: tuple[str, ...] = (FINANCE_OFFICER, FINANCE_APPROVER, POLICY_EDITOR, POLICY_APPROVER, SYSTEM_ADMIN)

#: Plain-language description of each role (English msgid; the web layer translates it).
ROLE_DESCRIPTIONS: dict[str, str] = {
    FINANCE_OFFICER: "Sees transactions, works reconciliation breaks and prepares refunds.",
    FINANCE_APPROVER: "Approves refunds and signs off reconciliations prepared by an officer.",
    POLICY_EDITOR: "Drafts, tests and simulates subsidy rules.",
    POLICY_APPROVER: "Approves subsidy rules drafted by someone else before they take effect.",
    SYSTEM_ADMIN: "Manages staff accounts, roles, API clients and reads the audit log.",
}
