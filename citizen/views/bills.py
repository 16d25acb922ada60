"""Citizen bill pages: my bills, one bill (requoted after e-ID login), pay, settle 0 đ, return, history.

Every route is for the logged-in citizen and reaches only their own bills (404 otherwise). Amounts come
from the bill's pinned quote, never from the browser; the return page only triggers a status query.
"""

from __future__ import annotations

import secrets
from datetime import datetime, time

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from marshmallow import EXCLUDE, Schema, fields, validate

from citizen import TEMPLATES, citizen_bills
from core.clock import SYSTEM_CLOCK, VIETNAM
from core.money import Money
from payments.bill_states import BillStatus
from payments.errors import BillNotPayable, PaymentInProgress
from payments.models.billing import BILL_STATUSES, LIVE_PAYMENT_STATUSES
from payments.pricing import meets_eid_level
from payments.providers import registered_providers
from web.auth import current_principal, require_citizen
from web.database import db_session, get_database
from web.identity_runtime import get_identity
from web.payments_runtime import payment_limits

bp = Blueprint("bills", __name__, url_prefix="/bills", template_folder=TEMPLATES)
_TOKEN = validate.Regexp(r"^[A-Za-z0-9_-]{16,64}$")


class PayForm(Schema):
    """The pay form: a method among the registered providers and the form's one-time token."""

    provider = fields.String(required=True, validate=lambda name: name in registered_providers())
    form_token = fields.String(required=True, validate=_TOKEN)


class HistoryFilter(Schema):
    """History filters: status and a date range (days in Vietnam, inclusive)."""

    status = fields.String(load_default=None, validate=validate.OneOf(BILL_STATUSES))
    since = fields.Date(load_default=None, data_key="from")
    until = fields.Date(load_default=None, data_key="to")


@bp.app_template_global()
def as_money(amount: int, currency: str = "VND") -> Money:
    """Wrap a stored amount for the ``money`` filter."""
    return Money(amount, currency)


def _lang() -> str:
    return "en" if str(get_locale()) == "en" else "vi"


def _citizen_context():
    principal = current_principal()
    return principal.citizen, principal.web_session, citizen_bills.eid_facts(principal.citizen,
                                                                             principal.web_session)


def _personal_id(citizen) -> str:
    return get_identity().vault.decrypt(citizen.personal_id_encrypted)


def _step_up_if_needed(bill_id: str):
    """Send a citizen whose e-ID level is below what the bill's service needs through step-up login."""
    principal = current_principal()
    bill = citizen_bills.owned_bill(db_session(), principal.citizen, bill_id)
    if not meets_eid_level(bill, principal.web_session.eid_level):
        return redirect(url_for("auth.step_up", next=url_for("bills.show", bill_id=bill_id),
                                level=bill.min_eid_level))
    return None


@bp.get("/")
@require_citizen()
def index():
    """My bills: open ones first (requoted with this login's facts), then what was paid."""
    citizen, _, facts = _citizen_context()
    bills = citizen_bills.bills_after_login(db_session(), citizen, facts, clock=SYSTEM_CLOCK,
                                            personal_id=_personal_id(citizen))
    return render_template("bills/index.html", open_bills=[b for b in bills if b.status == BillStatus.OPEN],
                           paid_bills=[b for b in bills if b.status == BillStatus.PAID], lang=_lang())


@bp.get("/history")
@require_citizen()
def history():
    """Every bill of this citizen, filtered by status and creation day."""
    citizen, _, _ = _citizen_context()
    filters = HistoryFilter().load(request.args.to_dict(flat=True), unknown=EXCLUDE)
    since = datetime.combine(filters["since"], time(0), tzinfo=VIETNAM) if filters["since"] else None
    until = datetime.combine(filters["until"], time.max, tzinfo=VIETNAM) if filters["until"] else None
    bills = citizen_bills.my_bills(db_session(), citizen, status=filters["status"], since=since, until=until)
    return render_template("bills/history.html", bills=bills, filters=request.args, statuses=BILL_STATUSES)


@bp.get("/<bill_id>")
@require_citizen()
def show(bill_id: str):
    """One bill: amount and why, what changed since the agency priced it, how to pay or its receipt."""
    if (step_up := _step_up_if_needed(bill_id)) is not None:
        return step_up
    citizen, _, facts = _citizen_context()
    view = citizen_bills.open_bill(db_session(), citizen, facts, bill_id, clock=SYSTEM_CLOCK,
                                   personal_id=_personal_id(citizen))
    methods = citizen_bills.payment_methods(db_session(), view.bill, list(registered_providers()))
    return render_template("bills/show.html", view=view, bill=view.bill, lang=_lang(), providers=methods,
                           form_token=secrets.token_urlsafe(24))


@bp.post("/<bill_id>/pay")
@require_citizen()
def pay(bill_id: str):
    """Start paying with the chosen method (once per form) and go to the provider's page."""
    if (step_up := _step_up_if_needed(bill_id)) is not None:
        return step_up
    citizen, web_session, _ = _citizen_context()
    form = PayForm().load(request.form.to_dict(flat=True), unknown=EXCLUDE)
    return_url = current_app.extensions["gateway.settings"].base_url + url_for("bills.payment_return",
                                                                               bill_id=bill_id)
    db_session().commit()  # start_payment owns its transactions: hold none open meanwhile
    try:
        response = citizen_bills.pay(get_database().session_factory, citizen=citizen, web_session=web_session,
                                     bill_public_id=bill_id, provider_name=form["provider"],
                                     form_token=form["form_token"], return_url=return_url, clock=SYSTEM_CLOCK,
                                     expiry_window=payment_limits().expiry_window)
    except (PaymentInProgress, BillNotPayable):  # another tab started or finished it: the bill page says which
        return redirect(url_for("bills.show", bill_id=bill_id), 303)
    next_url = response.body.get("next_url")
    return redirect(next_url or url_for("bills.payment_return", bill_id=bill_id), 303)


@bp.post("/<bill_id>/settle")
@require_citizen()
def settle(bill_id: str):
    """Settle a 0 đ bill without any provider, then show its receipt."""
    if (step_up := _step_up_if_needed(bill_id)) is not None:
        return step_up
    citizen, _, _ = _citizen_context()
    bill = citizen_bills.settle_free(db_session(), citizen, bill_id, clock=SYSTEM_CLOCK)
    return redirect(url_for("bills.show", bill_id=bill.public_id), 303)


@bp.post("/<bill_id>/abandon")
@require_citizen()
def abandon(bill_id: str):
    """Give up the attempt in progress (closed at the provider first) and go back to the bill to pay again."""
    citizen, _, _ = _citizen_context()
    citizen_bills.abandon_attempt(db_session(), citizen, bill_id, clock=SYSTEM_CLOCK)
    return redirect(url_for("bills.show", bill_id=bill_id), 303)


@bp.get("/<bill_id>/return")
@require_citizen()
def payment_return(bill_id: str):
    """Back from the provider: ask it for the outcome and wait (meta refresh) until there is one."""
    citizen, _, _ = _citizen_context()
    view = citizen_bills.outcome_on_return(db_session(), citizen, bill_id, clock=SYSTEM_CLOCK)
    waiting = view.live_payment is not None and view.live_payment.status in LIVE_PAYMENT_STATUSES
    return render_template("bills/return.html", view=view, bill=view.bill, payment=view.live_payment,
                           waiting=waiting)
