"""The finance officer's back office: imports, runs, the break workbench, the dashboard and reports.

Views are split by use case (one module each) and stay thin: read the form, call one service of
``payments.reconciliation`` or ``payments.reporting``, render. The request edge commits.
"""

from admin.finance import (  # noqa: F401  (registers the routes)
    breaks,
    dashboard,
    imports,
    parking,
    parking_disputes,
    refunds,
    remittance,
    reports,
    runs,
    transactions,
)
from admin.finance.blueprint import bp

__all__ = ["bp"]
