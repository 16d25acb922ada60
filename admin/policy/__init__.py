"""The policy back office: rules in force, history and diffs, the draft editor, simulation and approvals,
the beneficiary registry (CSV import) and the subsidy funds.

Mounted under ``/admin/policy``. Editors draft, test, simulate and submit; approvers send back, approve,
publish and retire; both read. The services in ``subsidies`` check everything else (the author never
approves, readiness before approval and publication), so these views stay thin.
"""

from __future__ import annotations

from admin.policy import (  # noqa: F401  (register routes)
    views_beneficiaries,
    views_browse,
    views_budgets,
    views_drafts,
    views_exchange,
    views_review,
)
from admin.policy.common import bp

__all__ = ["bp"]
