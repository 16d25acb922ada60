"""Helpers for the finance page tests: payments written straight to the tables (with their ledger postings),
bank statements, forms."""

from __future__ import annotations

import itertools
import re
import secrets
from datetime import UTC, date, datetime, time, timedelta

from core.clock import SYSTEM_CLOCK, VIETNAM, FixedClock
from core.money import Money
from payments import ledger, refunds
from payments.codes import new_payment_code
from payments.models.billing import Bill, Payment
from payments.settlement import SOURCE, collection_legs, post_duplicate_capture

ACCOUNT = "0011004123456"
_serial = itertools.count(1)
_HIDDEN = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]*)"')


def days_ago(days: int) -> date:
    """The Vietnamese calendar day ``days`` before today."""
    return SYSTEM_CLOCK.today_in_vietnam() - timedelta(days=days)


def at_vietnam(day: date, hour: int, minute: int = 0) -> datetime:
    """The instant ``hour:minute`` of ``day`` in Hà Nội, in UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=VIETNAM).astimezone(UTC)


def payment(db, *, amount: int, finished_at: datetime, provider: str = "stripe", service: str = "LLTP",
            status: str = "succeeded", agency: str = "HN-STP", subsidy: int = 0,
            programme: str = "HN-NQ11-2024") -> Payment:
    """A bill (with ``subsidy`` from ``programme`` on top of ``amount``) and one finished payment for it, as the
    payments package leaves them."""
    serial = next(_serial)
    lines = [{"programme": programme, "amount": subsidy}] if subsidy else []
    bill = Bill(public_id=secrets.token_hex(16), payer_id_hash=f"payer-{serial}", service_code=service, quantity=1,
                amount_due=amount, currency="VND", base_amount=amount + subsidy, subsidy_lines=lines, explanation={},
                rule_set_hash="r" * 64, quoted_at=finished_at, fee_kind="phi", retained_basis_points=0,
                agency_code=agency, agency_reference=f"HS-FIN-{serial:06d}", description="",
                status="paid" if status == "succeeded" else "open", created_at=finished_at, updated_at=finished_at)
    db.add(bill)
    db.flush()
    made = Payment(public_id=new_payment_code(), bill_id=bill.id, provider=provider, status=status, amount=amount,
                   currency="VND", refunded_amount=0, created_at=finished_at - timedelta(minutes=2),
                   expires_at=finished_at + timedelta(minutes=30), updated_at=finished_at, finished_at=finished_at)
    db.add(made)
    db.flush()
    _post(db, bill, made)
    return made


def _post(db, bill: Bill, made: Payment) -> None:
    """Book the payment as settlement does, on the day it finished: a collection, or a duplicate owed back."""
    clock = FixedClock(made.finished_at)
    if made.status == "succeeded":
        ledger.post(db, source=SOURCE, external_id=f"bill:{bill.public_id}:settled", kind="payment_captured",
                    legs=collection_legs(bill, paid=Money(made.amount, "VND"), provider=made.provider), clock=clock,
                    bill_id=bill.id, payment_id=made.id)
    elif made.status == "duplicate":
        post_duplicate_capture(db, made, clock=clock)


def booked_refund(db, made: Payment, amount: int, at: datetime) -> None:
    """A refund of ``amount`` booked as owed to the payer at ``at`` (approved; not sent to the provider)."""
    made.refunded_amount += amount
    ledger.post(db, source=refunds.SOURCE, external_id=f"refund:{made.public_id}-{amount}:approved",
                kind="refund_approved", legs=refunds.refund_legs(made.bill, Money(amount, "VND")),
                clock=FixedClock(at), bill_id=made.bill_id, payment_id=made.id)


def csrf(client, path: str = "/admin/finance/imports") -> str:
    """A CSRF token from a finance page's form."""
    return _HIDDEN.search(client.get(path).get_data(as_text=True)).group(1)


def text_of(response) -> str:
    """The response body as text, with whitespace runs folded (templates wrap lines)."""
    return " ".join(response.get_data(as_text=True).split())
