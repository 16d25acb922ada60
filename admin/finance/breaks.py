"""The break workbench: breaks by urgency and age, one break's history, and the steps to resolve it."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from admin.finance.blueprint import actor, bp, is_approver
from admin.finance.messages import message_for
from admin.finance.staff_names import staff_names
from core.clock import SYSTEM_CLOCK
from core.errors import DomainError, NotFound
from gateway.auth import require_role
from gateway.database import db_session
from identity.roles import FINANCE_APPROVER, FINANCE_OFFICER
from payments.reconciliation import breaks as register
from payments.reconciliation import workbench
from payments.reconciliation.matching import MatchingPolicy
from payments.reconciliation.runs import BREAK_KINDS, BREAK_STATUSES

FINANCE = (FINANCE_OFFICER, FINANCE_APPROVER)
#: Steps anyone in finance may take from the break page; approving has its own route.
OFFICER_STEPS = ("investigating", "resolution_proposed", "resolved")
REFUSAL_STATUS = {"approver_is_proposer": 403, "invalid_transition": 409}


@bp.get("/breaks")
@require_role(*FINANCE)
def breaks():
    """Live breaks (or those of a chosen status), filtered by kind, scope, age and escalation, most urgent first."""
    session, today = db_session(), SYSTEM_CLOCK.today_in_vietnam()
    chosen = {name: request.args.get(name) or None for name in ("status", "kind", "scope", "age", "escalated")}
    if chosen["status"] not in BREAK_STATUSES:
        chosen["status"] = None
    rows = workbench.list_breaks(session, today=today, status=chosen["status"],
                                 kind=chosen["kind"] if chosen["kind"] in BREAK_KINDS else None,
                                 scope=chosen["scope"], bucket=chosen["age"], escalated_only=chosen["escalated"] == "1")
    return render_template("admin/finance/breaks.html", rows=rows, chosen=chosen, kinds=BREAK_KINDS,
                           statuses=BREAK_STATUSES, buckets=tuple(workbench.AGE_BUCKETS),
                           ageing=workbench.ageing(session, today=today),
                           escalated=workbench.escalated_count(session, today=today))


def _break_page(break_id: int, status: int = 200, error: str | None = None, note: str = ""):
    session = db_session()
    found, events = workbench.get_break(session, break_id)
    today = SYSTEM_CLOCK.today_in_vietnam()
    age, lag = (today - found.day).days, MatchingPolicy().settlement_lag_days
    names = staff_names(session, [found.proposed_by, found.approved_by, *(e.actor for e in events)])
    return render_template("admin/finance/break.html", item=found, events=events, names=names, error=error,
                           age=age, bucket=workbench.age_bucket(age), approver=is_approver(), note=note,
                           escalated=register.is_escalated(found.status, found.day, today, lag),
                           escalates_on=register.escalates_on(found.day, lag)), status


@bp.get("/breaks/<int:break_id>")
@require_role(*FINANCE)
def break_detail(break_id: int):
    """One break, its amounts, its events, and the forms for its next steps."""
    return _break_page(break_id)


def _move(break_id: int, to_status: str):
    note = request.form.get("note", "")[:2000]
    try:
        register.move_break(db_session(), break_id, to_status, actor=actor(), note=note)
    except NotFound:
        raise
    except DomainError as error:
        return _break_page(break_id, REFUSAL_STATUS.get(error.code, 422), message_for(error), note)
    return redirect(url_for("finance.break_detail", break_id=break_id), 303)


@bp.post("/breaks/<int:break_id>/move")
@require_role(*FINANCE)
def move_break(break_id: int):
    """Investigate, propose a resolution (with a note) or mark an approved resolution done."""
    to_status = request.form.get("to", "")
    if to_status not in OFFICER_STEPS:
        return _break_page(break_id, 422, message_for(DomainError("", code="invalid_transition")))
    return _move(break_id, to_status)


@bp.post("/breaks/<int:break_id>/approve")
@require_role(FINANCE_APPROVER)
def approve_break(break_id: int):
    """Approve a proposed resolution; refused (and said so) to the officer who proposed it."""
    return _move(break_id, "approved")
