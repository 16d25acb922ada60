"""Money moving through the real services (sandbox card, settlement, refunds), so the ledger holds what it would."""

from __future__ import annotations

from core.money import vnd
from payments.notifications import check_on_return
from payments.providers.base import RefundResult
from payments.refunds import request_refund, send_refund
from payments.settlement import settle_free_bill
from payments.states import transition
from tests.payments.factories import judicial_record_quote, make_bill, open_sandbox_payment


def pay(db, clock, sandbox, *, due: int = 200_000, base: int = 200_000, **bill_overrides):
    """A bill of ``base`` with ``base - due`` from the Hà Nội programme, paid by sandbox card; its payment."""
    quote = bill_overrides.pop("quote", None) or judicial_record_quote(due=due, base=base)
    payment = open_sandbox_payment(db, clock, sandbox, quote=quote, **bill_overrides)
    sandbox.pay(payment.provider_session_id, "4242424242424242")
    return check_on_return(db, payment.public_id, clock=clock)


def settle_free(db, clock, *, base: int = 200_000, **bill_overrides):
    """A bill the Hà Nội programme covers fully, settled without a provider."""
    bill = make_bill(db, clock, quote=judicial_record_quote(due=0, base=base), **bill_overrides)
    return settle_free_bill(db, bill.public_id, clock=clock)


def pay_twice(db, clock, sandbox, *, amount: int = 200_000):
    """A bill paid by a second attempt after the payer also completed the first, expired one: (paid, duplicate)."""
    first = open_sandbox_payment(db, clock, sandbox, quote=judicial_record_quote(due=amount, base=amount))
    transition(db, first, "expired", cause="expiry", clock=clock)
    second = open_sandbox_payment(db, clock, sandbox, first.bill)
    for payment in (second, first):
        sandbox.pay(payment.provider_session_id, "4242424242424242")
        check_on_return(db, payment.public_id, clock=clock)
    assert (second.status, first.status) == ("succeeded", "duplicate")
    return second, first


def refund(db, clock, sandbox, payment, amount: int, *, refused: bool = False):
    """Refund ``amount`` of ``payment`` (sent at once); the provider pays it out, or refuses it."""
    made = request_refund(db, payment.public_id, amount=vnd(amount),
                          expected_refundable=vnd(payment.amount - payment.refunded_amount),
                          reason="service not delivered", requested_by="finance-1", clock=clock)
    original = sandbox.refund
    if refused:
        sandbox.refund = lambda request: RefundResult("sbxre_refused", False, "insufficient_balance")
    try:
        send_refund(db, made.public_id, clock=clock)
    finally:
        sandbox.refund = original
    return made
