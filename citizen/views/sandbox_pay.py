"""The sandbox provider's hosted payment page, served inside the gateway: test cards, no real money.

It stands where a real provider's page would: the payer types a test card, the sandbox decides the
outcome, and its signed notifications are staged through the outbox to ``receive_notification``, the
webhook path. The payer is then sent to the return URL, which only triggers a status query.

The card form is checked as a real acquirer's page checks it (number, expiry, CVC) before anything is
sent to the sandbox: a mistyped card keeps the payer on the form with the reason next to the field,
instead of being recorded as a decline or ending on an error page.
"""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, abort, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from citizen import TEMPLATES
from core.clock import SYSTEM_CLOCK, VIETNAM
from payments.errors import PaymentError
from payments.jobs import stage_sandbox_notifications
from payments.models.billing import Payment
from payments.providers import get_provider
from payments.providers.base import ProviderStatus
from payments.providers.sandbox import TEST_CARDS, SandboxProvider
from web.auth import public
from web.database import db_session

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox", template_folder=TEMPLATES)

#: Test cards in the order the page lists them, with what each does (translated in the template).
CARD_LABELS = ("4242 4242 4242 4242", "4000 0000 0000 0002", "4000 0000 0000 0119", "4000 0000 0000 0259",
               "4000 0000 0000 0341")
_SESSION_ID = re.compile(r"sbx_[0-9a-f]{24}")
_EXPIRY = re.compile(r"(\d{1,2})\s*/\s*(\d{2}|\d{4})")


def card_errors(form: dict[str, str], today: date) -> dict[str, str]:
    """What is wrong with the card fields, by field name (empty when the card may be sent)."""
    errors: dict[str, str] = {}
    number = re.sub(r"[\s-]", "", form.get("card_number", ""))
    if not number:
        errors["card_number"] = _l("Enter the card number.")
    elif not number.isdigit() or not 12 <= len(number) <= 19 or not _luhn_valid(number):
        errors["card_number"] = _l("This card number is not valid. Check the digits on your card.")
    expiry = _expiry(form.get("expiry", ""))
    if expiry is None:
        errors["expiry"] = _l("Enter the expiry date as MM/YY, for example 08/29.")
    elif expiry < (today.year, today.month):
        errors["expiry"] = _l("This card has expired.")
    if not re.fullmatch(r"\d{3,4}", form.get("cvc", "").strip()):
        errors["cvc"] = _l("Enter the 3 or 4 digit security code (CVC) from the back of the card.")
    return errors


def _luhn_valid(number: str) -> bool:
    total = 0
    for position, digit in enumerate(int(d) for d in reversed(number)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _expiry(value: str) -> tuple[int, int] | None:
    found = _EXPIRY.fullmatch(value.strip())
    if found is None or not 1 <= int(found.group(1)) <= 12:
        return None
    year = int(found.group(2))
    return (year + 2000 if year < 100 else year, int(found.group(1)))


def _sandbox() -> SandboxProvider:
    try:
        provider = get_provider("sandbox")
    except PaymentError:
        abort(404)
    return provider  # type: ignore[return-value]


def _payment(session_id: str) -> Payment:
    """The payment this sandbox session belongs to; 404 for anything unknown."""
    if not _SESSION_ID.fullmatch(session_id):
        abort(404)
    payment = db_session().scalars(select(Payment).where(Payment.provider == "sandbox",
                                                         Payment.provider_session_id == session_id)).one_or_none()
    if payment is None:
        abort(404)
    return payment


def _page(payment: Payment, session_id: str, *, errors: dict[str, str] | None = None,
          form: dict[str, str] | None = None, status: int = 200):
    report = _sandbox().fetch_status(session_id)
    return render_template("sandbox/pay.html", payment=payment, report=report, session_id=session_id,
                           cards=CARD_LABELS, open=report.status is ProviderStatus.PENDING,
                           known=set(TEST_CARDS), errors=errors or {}, form=form or {}), status


@bp.get("/pay/<session_id>")
@public
def checkout(session_id: str):
    """The hosted page: what is being paid, the test cards, the card fields."""
    return _page(_payment(session_id), session_id)


@bp.post("/pay/<session_id>")
@public
def submit(session_id: str):
    """Pay (or cancel) at the sandbox, stage its signed notifications, send the payer back."""
    payment = _payment(session_id)
    form = {name: request.form.get(name, "")[:32] for name in ("card_number", "expiry", "cvc", "action")}
    sandbox = _sandbox()
    if form["action"] == "cancel":
        deliveries = sandbox.cancel_by_payer(session_id)
    else:
        errors = card_errors(form, SYSTEM_CLOCK.now().astimezone(VIETNAM).date())
        if errors:  # the card is never sent: the payer corrects it on the same page
            return _page(payment, session_id, errors=errors, form={"card_number": form["card_number"],
                                                                   "expiry": form["expiry"]}, status=422)
        deliveries = sandbox.pay(session_id, form["card_number"])
    stage_sandbox_notifications(db_session(), session_id, deliveries)
    return redirect(payment.return_url or "/", 303)
