"""Naming a bill's payer after it was made: a charge billed to nobody in particular, claimed by its payer.

A parking session of a vehicle no one has linked is billed to a placeholder payer (the vehicle's keyed hash).
The driver holds the session's ticket (the link or QR given at the exit gate); opening it logged in names
them the payer, so the bill is theirs to pay and keep, like any other. Only the expected placeholder can
be replaced: a citizen's bill is never moved to someone else, and a paid or busy bill keeps its payer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.clock import Clock
from payments.bill_states import BillStatus
from payments.bills import live_payment, lock_bill
from payments.errors import BillNotFound, BillNotPayable, PaymentInProgress
from payments.models.billing import Bill
from payments.sql import update_loaded


@dataclass(frozen=True)
class Payer:
    """Who a bill is for, as the receipt names them."""

    payer_id_hash: str
    citizen_id: int | None = None
    name: str | None = None
    masked_id: str | None = None


def assign_payer(session: Session, bill_public_id: str, payer: Payer, *, placeholder: str, clock: Clock) -> Bill:
    """Make ``payer`` the payer of an open, idle bill still billed to ``placeholder``; the same payer again is
    a no-op. Any other bill is ``BillNotFound`` (its existence is not the caller's business). The caller
    records who asked in its audit log."""
    bill = lock_bill(session, bill_public_id)
    if bill.payer_id_hash == payer.payer_id_hash:
        return bill
    if bill.payer_id_hash != placeholder:
        raise BillNotFound(f"no bill {bill_public_id}")
    if bill.status != BillStatus.OPEN:
        raise BillNotPayable(f"bill {bill.public_id} is {bill.status}", details={"status": bill.status})
    if live_payment(session, bill.id) is not None:
        raise PaymentInProgress(f"bill {bill.public_id} has a payment in progress")
    update_loaded(session, bill, {"payer_id_hash": payer.payer_id_hash, "citizen_id": payer.citizen_id,
                                  "payer_name": payer.name, "payer_masked_id": payer.masked_id,
                                  "updated_at": clock.now()})
    return bill
