"""Subsidy funds for policy staff: each fund's cap, what is reserved, committed and left, with a bar."""

from __future__ import annotations

from flask import render_template

from admin.policy.common import READERS, bp
from admin.policy.fund_chart import fund_bar
from core.clock import SYSTEM_CLOCK
from subsidies.budgets import list_funds
from subsidies.rule_queries import rules_by_fund
from web.auth import require_role
from web.database import db_session


@bp.get("/budgets")
@require_role(*READERS)
def budgets():
    """Every fund, newest year first, with the published rules that draw on it."""
    session = db_session()
    funds = list_funds(session)
    return render_template("admin/policy/budgets.html", funds=funds, bars={f.code: fund_bar(f) for f in funds},
                           rules=rules_by_fund(session), now=SYSTEM_CLOCK.now())
