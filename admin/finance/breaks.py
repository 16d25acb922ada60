"""The break workbench: breaks by urgency and age, one break's history, and the steps to resolve it.

A proposed resolution may move money (one movement from a closed list, an account that fits it, an amount
in whole dong); it is posted to the ledger when a second officer approves it, and the page shows it.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from admin.finance.blueprint import actor, bp, is_approver
from admin.finance.forms import parse_whole_dong
from admin.finance.messages import message_for
from admin.finance.staff_names import staff_names
from core.clock import SYSTEM_CLOCK
from core.errors import DomainError, NotFound
from identity.roles import FINANCE_APPROVER, FINANCE_OFFICER
from payments.models.ledger import LedgerTransaction
from payments.reconciliation import break_states, resolutions, workbench
from payments.reconciliation import breaks as register
from payments.reconciliation.matching import MatchingPolicy
from payments.reconciliation.runs import BREAK_KINDS, BREAK_STATUSES
from web.auth import require_role
from web.database import db_session

FINANCE = (FINANCE_OFFICER, FINANCE_APPROVER)
#: Steps anyone in finance may take from the break page; approving has its own route.
OFFICER_STEPS = (break_states.INVESTIGATING, break_states.PROPOSED, break_states.RESOLVED)
REFUSAL_STATUS = {"approver_is_proposer": 403, "invalid_transition": 409}
#: What each movement of money does, as a finance officer reads it.
MOVEMENT_LABELS = {
    "write_off_fee": _l("Write off as a provider fee (provider fees ← clearing)"),
    "write_off_loss": _l("Write off as a loss (write-offs ← clearing)"),
    "refund_payable": _l("Owe it back to the payer (clearing → refunds payable)"),
    "adjust_clearing": _l("Park unexplained money at the provider in suspense (clearing → suspense)"),
    "reclassify_suspense": _l("Reclassify from suspense to the chosen account"),
}


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


def _break_page(break_id: int, status: int = 200, error: str | None = None, form=None):
    session = db_session()
    found, events = workbench.get_break(session, break_id)
    choices = resolutions.account_choices(session, found)
    accounts = list(dict.fromkeys(account for allowed in choices.values() for account in allowed))
    posted = session.get(LedgerTransaction, found.ledger_transaction_id) if found.ledger_transaction_id else None
    today = SYSTEM_CLOCK.today_in_vietnam()
    age, lag = (today - found.day).days, MatchingPolicy().settlement_lag_days
    names = staff_names(session, [found.proposed_by, found.approved_by, *(e.actor for e in events)])
    return render_template("admin/finance/break.html", item=found, events=events, names=names, error=error,
                           age=age, bucket=workbench.age_bucket(age), approver=is_approver(), form=form or {},
                           movements=MOVEMENT_LABELS, accounts=accounts,
                           posted=posted,
                           escalated=register.is_escalated(found.status, found.day, today, lag),
                           escalates_on=register.escalates_on(found.day, lag), live_statuses=break_states.LIVE), status


@bp.get("/breaks/<int:break_id>")
@require_role(*FINANCE)
def break_detail(break_id: int):
    """One break, its amounts, its events, and the forms for its next steps."""
    return _break_page(break_id)


def _movement(form) -> resolutions.Movement | None:
    """The money movement of a proposal form, or None; an unreadable amount is refused as not positive."""
    kind = form.get("movement")
    if not kind:
        return None
    return resolutions.Movement(kind, form.get("account", ""), parse_whole_dong(form.get("amount")) or 0)


def _move(break_id: int, to_status: str):
    note = request.form.get("note", "")[:2000]
    movement = _movement(request.form) if to_status == break_states.PROPOSED else None
    try:
        with db_session().begin_nested():  # a refused step leaves nothing behind (the request edge commits)
            register.move_break(db_session(), break_id, to_status, actor=actor(), note=note, movement=movement)
    except NotFound:
        raise
    except DomainError as error:
        return _break_page(break_id, REFUSAL_STATUS.get(error.code, 422), message_for(error), request.form)
    return redirect(url_for("finance.break_detail", break_id=break_id), 303)


@bp.post("/breaks/<int:break_id>/move")
@require_role(*FINANCE)
def move_break(break_id: int):
    """Investigate, propose a resolution (with a note) or mark an approved resolution done."""
    to_status = request.form.get("to", "")
    if to_status not in OFFICER_STEPS:
        return _break_page(break_id, 422, message_for(DomainError("", code="invalid_transition")), request.form)
    return _move(break_id, to_status)


@bp.post("/breaks/<int:break_id>/approve")
@require_role(FINANCE_APPROVER)
def approve_break(break_id: int):
    """Approve a proposed resolution; refused (and said so) to the officer who proposed it."""
    return _move(break_id, "approved")
