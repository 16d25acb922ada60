"""Starting a payment: a new attempt on a bill, and recording the provider session it opened.

Design overview
---------------
* ``create_payment`` pins the bill's amount due on a new ``created`` payment, under the bill's row
  lock. It refuses a paid, cancelled or free bill, and a bill with a live attempt; a unique partial
  index backs the last rule up in the database.
* The provider call happens *between* transactions (``payments.checkout``): ``session_request``
  builds its input, ``record_provider_session`` stores its output and moves the payment to
  ``submitted``. The provider's idempotency key is derived from the payment id, so calling the
  provider again after a crash returns the same session instead of opening a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.clock import Clock
from core.money import Money
from payments import agency_callbacks as callbacks
from payments.bills import live_payment, lock_bill
from payments.codes import new_payment_code
from payments.confirmation import lock_payment
from payments.errors import BillAlreadyPaid, BillNotPayable, PaymentInProgress
from payments.models.billing import Bill, Payment
from payments.pricing import require_eid_level
from payments.providers import get_provider
from payments.providers.base import ProviderSession, SessionRequest
from payments.sql import insert_entity_if_absent, update_loaded
from payments.states import Outcome, PaymentStatus, record_creation, transition
from payments.vietqr_payments import require_receiving_account

#: How long a payment may stay unfinished before the sweeper expires it (GOV.UK Pay uses 90 minutes).
DEFAULT_EXPIRY_WINDOW = timedelta(minutes=30)


@dataclass(frozen=True)
class PayerSession:
    """The e-ID session that starts a payment: its e-ID level, issuer, subject, acr and login time.

    The level has no default: every edge that starts a payment says how strongly the payer logged in, and the
    bill's service decides whether that is enough (``pricing.require_eid_level``)."""

    eid_level: int
    iss: str | None = None
    sub: str | None = None
    acr: str | None = None
    auth_time: datetime | None = None


def create_payment(session: Session, bill_public_id: str, *, provider_name: str, payer: PayerSession,
                   return_url: str | None, clock: Clock, expiry_window: timedelta = DEFAULT_EXPIRY_WINDOW) -> Payment:
    """Create a ``created`` payment for the bill's amount due; refused unless the bill can take one."""
    get_provider(provider_name)  # fail early on a name that is not configured
    bill = lock_bill(session, bill_public_id)
    if bill.status == "paid":
        raise BillAlreadyPaid(f"bill {bill.public_id} is already paid")
    if bill.status != "open":
        raise BillNotPayable(f"bill {bill.public_id} is {bill.status}", details={"status": bill.status})
    if bill.amount_due == 0:
        raise BillNotPayable(f"bill {bill.public_id} is free; settle it without a provider", code="bill_is_free")
    require_eid_level(bill, payer.eid_level)
    require_receiving_account(session, bill, provider_name)
    now = clock.now()
    values = {"bill_id": bill.id, "provider": provider_name, "status": PaymentStatus.CREATED.value,
              "amount": bill.amount_due, "currency": bill.currency, "refunded_amount": 0, "return_url": return_url,
              "iss": payer.iss, "sub": payer.sub, "acr": payer.acr, "auth_time": payer.auth_time,
              "created_at": now, "expires_at": now + expiry_window, "updated_at": now}
    payment = _insert_with_fresh_code(session, values, bill)
    set_committed_value(payment, "bill", bill)  # so ``payment.bill`` needs no query once ``bill`` is dropped
    record_creation(session, payment, cause="payer", clock=clock)
    callbacks.payment_changed(session, payment, clock=clock)  # payment.started
    return payment


def session_request(payment: Payment) -> SessionRequest:
    """Return what to ask the provider for this payment: every field derives from the payment row.

    Deterministic on purpose: a retry after a crash sends the same parameters with the same idempotency
    key, and providers such as Stripe refuse a key reused with different parameters.
    """
    bill = payment.bill
    return SessionRequest(payment_reference=payment.public_id, amount=Money(payment.amount, payment.currency),
                          description=bill.description or f"{bill.service_code} {bill.agency_reference}",
                          return_url=payment.return_url or "", opened_at=payment.created_at,
                          expires_at=payment.expires_at,
                          idempotency_key=f"payment:{payment.public_id}:create",
                          metadata={"payment_id": payment.public_id, "bill_id": payment.bill.public_id})


def _insert_with_fresh_code(session: Session, values: dict[str, object], bill: Bill) -> Payment:
    """Insert the payment in one statement; refused if the bill has a live attempt.

    ``ON CONFLICT DO NOTHING`` covers both unique indexes a new payment can hit: one live payment per bill
    (the rule, also when a path that does not lock the bill raced us) and the payment code (50 random
    bits: in the rare case it was taken, another is drawn). No savepoint and no look-up first.
    """
    for _ in range(5):
        payment = insert_entity_if_absent(session, Payment, {**values, "public_id": new_payment_code()})
        if payment is not None:
            return payment
        if live_payment(session, bill.id) is not None:
            raise PaymentInProgress(f"bill {bill.public_id} has a payment in progress")
    raise RuntimeError("could not draw an unused payment code")


def record_provider_session(session: Session, payment_public_id: str, opened: ProviderSession, *,
                            clock: Clock) -> Payment:
    """Store the provider session on the payment and move it to ``submitted`` (a no-op if it moved on)."""
    _, payment = lock_payment(session, payment_public_id)
    found = {"provider_session_id": opened.session_id, "next_url": opened.next_url}
    changes = found if payment.provider_session_id is None else {}
    if transition(session, payment, PaymentStatus.SUBMITTED, cause="provider_session", clock=clock,
                  changes=changes) is Outcome.IGNORED and changes:
        # It moved on without us (a notification overtook this): the session is still the payment's.
        update_loaded(session, payment, changes)
    return payment


def payment_summary(payment: Payment) -> dict[str, object]:
    """Return the JSON-ready view of a payment that idempotent responses store and replay."""
    return {"payment_id": payment.public_id, "bill_id": payment.bill.public_id, "provider": payment.provider,
            "status": payment.status, "amount": payment.amount, "currency": payment.currency,
            "next_url": payment.next_url}
