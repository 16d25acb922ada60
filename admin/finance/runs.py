"""Runs: start one in the background, watch its progress, read its history and results, sign it off."""

from __future__ import annotations

from datetime import date

from flask import abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from admin.finance.blueprint import actor, bp, is_approver
from admin.finance.forms import parse_vn_date
from admin.finance.messages import message_for
from admin.finance.staff_names import staff_names
from core.errors import Conflict, DomainError, InvalidTransition
from identity.roles import FINANCE_APPROVER, FINANCE_OFFICER
from payments.reconciliation import bank, service, workbench
from payments.reconciliation.jobs import start_run as stage_run
from payments.reconciliation.matching import PROVIDER_FORMATS
from payments.reconciliation.requests import ReconRunRequest, latest_requests, make_scope
from web.auth import require_role
from web.database import db_session

FINANCE = (FINANCE_OFFICER, FINANCE_APPROVER)


def _history(status: int = 200, **context):
    session = db_session()
    context.setdefault("errors", {})
    context.setdefault("form", {})
    runs = workbench.list_runs(session)
    return render_template("admin/finance/runs.html", runs=runs, requests=latest_requests(session),
                           providers=tuple(PROVIDER_FORMATS), accounts=workbench.bank_accounts(session),
                           names=staff_names(session, [r.started_by for r in runs]), **context), status


@bp.get("/runs")
@require_role(*FINANCE)
def runs():
    """Run history, run requests in flight, and the form to start a run."""
    return _history()


def _read_run_form(form) -> tuple[str | None, date | None, date | None, dict[str, str]]:
    errors, scope = {}, None
    kind = form.get("kind", "")
    try:
        scope = make_scope(kind, form.get("provider" if kind == "provider" else "account", ""))
    except DomainError as error:
        errors["scope"] = message_for(error)
    first, last = parse_vn_date(form.get("from")), parse_vn_date(form.get("to"))
    if first is None:
        errors["from"] = str(_l("Enter the first day as dd/mm/yyyy, for example 01/12/2026."))
    if last is None:
        errors["to"] = str(_l("Enter the last day as dd/mm/yyyy, for example 31/12/2026."))
    return scope, first, last, errors


@bp.post("/runs")
@require_role(*FINANCE)
def start_run():
    """Queue a run of one scope and period; its page shows the progress."""
    scope, first, last, errors = _read_run_form(request.form)
    if not errors:
        try:
            with db_session().begin_nested():  # a refused run leaves nothing behind (the request edge commits)
                started = stage_run(db_session(), scope=scope, period_start=first, period_end=last,
                                    requested_by=actor())
        except DomainError as error:
            errors["to"] = message_for(error)
        else:
            return redirect(url_for("finance.run_request", request_id=started.id), 303)
    return _history(422, errors=errors, form=request.form)


@bp.get("/runs/requests/<int:request_id>")
@require_role(*FINANCE)
def run_request(request_id: int):
    """How far a requested run has got; the page refreshes itself until it is done."""
    found = db_session().get(ReconRunRequest, request_id)
    if found is None:
        abort(404)
    if found.status == "completed":
        return redirect(url_for("finance.run", run_id=found.run_id), 303)
    message = message_for(DomainError("", code=found.error_code)) if found.error_code else None
    return render_template("admin/finance/run_request.html", found=found, message=message)


def _run_page(run_id: int, status: int = 200, error: str | None = None):
    session = db_session()
    found = workbench.get_run(session, run_id)
    return render_template("admin/finance/run.html", run=found, counts=service.outcome_counts(session, run_id),
                           suggestions=workbench.suggestions(session, found), approver=is_approver(),
                           names=staff_names(session, [found.started_by, found.signed_off_by]),
                           error=error), status


@bp.get("/runs/<int:run_id>")
@require_role(*FINANCE)
def run(run_id: int):
    """One run: its outcomes, its suggested matches to confirm, and sign-off."""
    return _run_page(run_id)


@bp.post("/runs/<int:run_id>/suggestions/<int:result_id>/confirm")
@require_role(*FINANCE)
def confirm_suggestion(run_id: int, result_id: int):
    """Confirm a suggested pair of a bank run: the next run of the account takes it as matched."""
    try:
        with db_session().begin_nested():
            bank.confirm_suggestion(db_session(), result_id, officer=actor())
    except Conflict as error:
        return _run_page(run_id, 409, message_for(error))
    return redirect(url_for("finance.run", run_id=run_id, _anchor="suggestions"), 303)


@bp.post("/runs/<int:run_id>/sign-off")
@require_role(FINANCE_APPROVER)
def sign_off(run_id: int):
    """Sign a completed run off as a finance approver: its period is frozen."""
    try:
        with db_session().begin_nested():  # a refused sign-off closes no day
            service.sign_off(db_session(), run_id, approver=actor())
    except InvalidTransition:
        return _run_page(run_id, 409, str(_l("Only a completed run that no later run replaced can be signed off.")))
    except Conflict as error:  # the ledger stayed busy with postings longer than the sign-off waits
        return _run_page(run_id, 409, message_for(error))
    return redirect(url_for("finance.run", run_id=run_id), 303)
