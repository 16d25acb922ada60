"""Bills: creating one from a quote, quoting it again before payment starts, cancelling it, finding it.

Design overview
---------------
* The amount is always computed by the server: a bill is made from a ``Quote`` (the subsidies engine's
  result, passed in as plain values) and never from an amount a browser sent.
* A quote is a snapshot. An agency may bill before the citizen logs in; after e-ID login the caller
  quotes again with the facts from VNeID (``requote_bill``). The quote pinned when a payment starts is
  final: requoting is refused while a payment is live or once the bill is paid.
* An agency reference is unique per agency, so an agency retrying a create gets the same bill back.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.errors import Conflict
from core.money import Money
from payments.bill_states import BillStatus, record_bill_created, transition_bill
from payments.errors import BillNotFound, BillNotPayable, InvalidBill, PaymentInProgress
from payments.models.billing import FEE_KINDS, LIVE_PAYMENT_STATUSES, Bill, Payment
from payments.sql import insert_entity_if_absent


@dataclass(frozen=True)
class SubsidyLine:
    """The part of a fee that one subsidy programme pays."""

    programme: str
    amount: Money


@dataclass(frozen=True)
class Quote:
    """A price from the subsidies engine: what is due, the fee before subsidies, and why."""

    amount_due: Money
    base_amount: Money
    subsidies: tuple[SubsidyLine, ...] = ()
    explanation: Mapping[str, Any] = field(default_factory=dict)
    rule_set_hash: str = ""
    #: The subsidies engine's quote this price comes from (its reservations are spent when the bill is paid).
    quote_id: str | None = None
    #: The e-ID level the priced service requires of whoever opens or pays the bill (1 or 2).
    min_eid_level: int = 1

    def check(self) -> None:
        """Raise InvalidBill unless the amounts add up: base = due + subsidies, nothing negative."""
        currencies = {self.amount_due.currency, self.base_amount.currency, *(s.amount.currency for s in self.subsidies)}
        if len(currencies) != 1:
            raise InvalidBill("a quote must be in one currency")
        if self.amount_due.amount < 0 or any(s.amount.amount <= 0 for s in self.subsidies):
            raise InvalidBill("amounts due and subsidies must not be negative")
        if self.min_eid_level not in (1, 2):
            raise InvalidBill(f"e-ID level {self.min_eid_level} is not 1 or 2")
        covered = sum(s.amount.amount for s in self.subsidies)
        if self.base_amount.amount != self.amount_due.amount + covered:
            raise InvalidBill(f"base {self.base_amount.amount} is not amount due {self.amount_due.amount} "
                              f"plus subsidies {covered}")


@dataclass(frozen=True)
class NewBill:
    """Everything needed to bill a payer for one service."""

    payer_id_hash: str
    service_code: str
    quantity: int
    quote: Quote
    fee_kind: str
    agency_code: str
    agency_reference: str
    retained_basis_points: int = 0
    description: str = ""
    due_date: date | None = None
    citizen_id: int | None = None
    #: For the receipt: the payer's name and masked ID number (never the full number).
    payer_name: str | None = None
    payer_masked_id: str | None = None


def new_public_id() -> str:
    """Return an unguessable id for URLs (128 random bits, hex)."""
    return secrets.token_hex(16)


def create_bill(session: Session, new: NewBill, *, clock: Clock) -> Bill:
    """Create a bill, or return the same agency reference's bill when the request is a retry."""
    _check_new_bill(new)
    now = clock.now()
    values = {"public_id": new_public_id(), "payer_id_hash": new.payer_id_hash, "citizen_id": new.citizen_id,
              "payer_name": new.payer_name, "payer_masked_id": new.payer_masked_id,
              "service_code": new.service_code, "quantity": new.quantity, "fee_kind": new.fee_kind,
              "retained_basis_points": new.retained_basis_points, "agency_code": new.agency_code,
              "agency_reference": new.agency_reference, "description": new.description, "due_date": new.due_date,
              "status": BillStatus.OPEN.value, "created_at": now, "updated_at": now, **_quote_values(new.quote, clock)}
    # Inserted first (one statement for a new bill); a retry finds the reference taken and reads that bill.
    bill = insert_entity_if_absent(session, Bill, values, ["agency_code", "agency_reference"])
    if bill is not None:
        record_bill_created(session, bill, actor=f"agency:{new.agency_code}", clock=clock)
        return bill
    existing = session.scalars(select(Bill).where(Bill.agency_code == new.agency_code,
                                                  Bill.agency_reference == new.agency_reference)).one()
    if (existing.payer_id_hash, existing.service_code) != (new.payer_id_hash, new.service_code):
        raise Conflict(f"agency reference {new.agency_reference} is already used for another bill",
                       code="agency_reference_taken")
    return existing


def _check_new_bill(new: NewBill) -> None:
    new.quote.check()
    if new.quantity < 1:
        raise InvalidBill("quantity must be at least 1")
    if new.fee_kind not in FEE_KINDS:
        raise InvalidBill(f"fee kind must be one of {', '.join(FEE_KINDS)}")
    if not 0 <= new.retained_basis_points <= 10_000 or (new.fee_kind == "le_phi" and new.retained_basis_points):
        raise InvalidBill("a lệ phí is remitted in full; a phí keeps 0 to 10000 basis points")


def _quote_values(quote: Quote, clock: Clock) -> dict[str, Any]:
    """The bill's columns that pin ``quote``."""
    return {"amount_due": quote.amount_due.amount, "currency": quote.amount_due.currency,
            "base_amount": quote.base_amount.amount,
            "subsidy_lines": [{"programme": s.programme, "amount": s.amount.amount} for s in quote.subsidies],
            "explanation": dict(quote.explanation), "rule_set_hash": quote.rule_set_hash,
            "quote_id": quote.quote_id, "quoted_at": clock.now(), "min_eid_level": quote.min_eid_level}


def requote_bill(session: Session, bill_public_id: str, quote: Quote, *, clock: Clock) -> Bill:
    """Replace an open bill's quote (e.g. after e-ID login); refused once a payment has started."""
    quote.check()
    bill = lock_bill(session, bill_public_id)
    _require_open_and_idle(session, bill)
    if quote.amount_due.currency != bill.currency:
        raise InvalidBill("a bill keeps its currency")
    bill.previous_amount_due, bill.previous_explanation = bill.amount_due, bill.explanation
    for name, value in _quote_values(quote, clock).items():
        setattr(bill, name, value)
    bill.updated_at = clock.now()
    session.flush()
    return bill


def cancel_bill(session: Session, bill_public_id: str, *, actor: str, clock: Clock) -> Bill:
    """Cancel an open bill that has no live payment, as ``actor``."""
    bill = lock_bill(session, bill_public_id)
    _require_open_and_idle(session, bill)
    transition_bill(session, bill, BillStatus.CANCELLED, actor=actor, clock=clock)
    session.flush()
    return bill


def _require_open_and_idle(session: Session, bill: Bill) -> None:
    if bill.status != "open":
        raise BillNotPayable(f"bill {bill.public_id} is {bill.status}", details={"status": bill.status})
    if live_payment(session, bill.id) is not None:
        raise PaymentInProgress(f"bill {bill.public_id} has a payment in progress")


def live_payment(session: Session, bill_id: int) -> Payment | None:
    """Return the bill's unfinished payment, if any (there is at most one)."""
    query = select(Payment).where(Payment.bill_id == bill_id, Payment.status.in_(LIVE_PAYMENT_STATUSES))
    return session.scalars(query).one_or_none()


def get_bill(session: Session, bill_public_id: str) -> Bill:
    """Return the bill with this public id."""
    bill = session.scalars(select(Bill).where(Bill.public_id == bill_public_id)).one_or_none()
    if bill is None:
        raise BillNotFound(f"no bill {bill_public_id}")
    return bill


def lock_bill(session: Session, bill_public_id: str) -> Bill:
    """Return the bill with a row lock held until the transaction ends (SELECT … FOR UPDATE)."""
    bill = session.scalars(_LOCK_BILL, {"public_id": bill_public_id}).one_or_none()
    if bill is None:
        raise BillNotFound(f"no bill {bill_public_id}")
    return bill


# Built once (every payment locks its bill): the SQL is compiled once too, and its cache key computed once.
# populate_existing: a row already in the session is refreshed with what the lock just read.
_LOCK_BILL = (select(Bill).where(Bill.public_id == bindparam("public_id")).with_for_update()
              .execution_options(populate_existing=True))

