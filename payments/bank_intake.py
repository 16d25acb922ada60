"""Take a bank transfer a feed reported: pay the VietQR payment it names, or hold the money for an officer.

Design overview
---------------
What arrives decides, never the browser. A credit naming a VietQR payment's code with exactly its amount,
booked by the bank before the payment's deadline, is that rail's success report: ``confirmation.apply_report``
moves the payment and settles the bill (receipt, collection posting, the agency's callbacks) as for any
provider; also when the feed reports it after the sweeper ended the attempt (the money came in time).
Anything else (no code, a code we do not know, less or more than due, a second transfer for a paid bill, a
transfer after expiry or to a cancelled bill) is money on the agency's account that nothing explains:
it is booked to suspense and held with its reason, and a break opens on the finance workbench at once
(``reconciliation.feed_breaks``) for an officer to refund or apply it. There is never a silent success.

Each transfer is booked where the bank statement will find it: Dr the account's ledger account, Cr the
rail's clearing (paid) or suspense (held), under the external id a reconciliation run gives the same
statement line (``reconciliation.postings.bank_key``), so the statement import books nothing twice. When
a statement run saw the line first (the feed was late), the money moves from where the run booked it, and
the run's break for the line closes once the feed has paid a payment with it.
A retried delivery (same feed id) or a second feed naming the same bank reference is the same transfer:
it changes nothing and answers what the first did.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.money import Money
from payments import accounts, bank_transfers
from payments.bank_transfers import VIETNAM, BankTransfer
from payments.bill_states import BillStatus
from payments.confirmation import ReportOutcome, apply_report
from payments.models.bank_transfers import BankTransferRecord
from payments.models.billing import Bill, Payment
from payments.providers.vietqr import NAME as VIETQR
from payments.providers.vietqr import transfer_report
from payments.reconciliation.feed_breaks import close_identified, open_feed_break
from payments.reconciliation.postings import BankCredit, book_bank_line, hold_bank_line, line_key
from payments.sql import insert_entity_if_absent

#: Why a credit was held instead of paying its payment.
HELD_REASONS = ("no_code", "unknown_code", "not_a_transfer_payment", "amount_short", "amount_over",
                "already_paid", "late", "bill_cancelled", "payment_closed")


@dataclass(frozen=True)
class Intake:
    """What taking one transfer did; ``repeated`` when it had been taken before (nothing changed now)."""

    outcome: str
    reason: str
    payment_code: str | None
    repeated: bool = False


def receive(session: Session, connection: str, headers: Mapping[str, str], raw_body: bytes, *,
            clock: Clock) -> Intake:
    """A feed's notification: authenticated as its connection is set up, read, then taken."""
    feed = bank_transfers.get_connection(connection)
    bank_transfers.authenticate(feed, headers, raw_body)
    return take_transfer(session, bank_transfers.read(feed, raw_body), clock=clock)


def take_transfer(session: Session, transfer: BankTransfer, *, clock: Clock) -> Intake:
    """Record ``transfer`` once and apply it (paid) or hold it for an officer; a repeat changes nothing."""
    record = _record(session, transfer, clock)
    if record is None:
        return _earlier(session, transfer)
    if not transfer.credit:
        return _finish(record, "not_a_credit", "")
    payment = _payment(session, transfer.payment_code)
    reason = _why_not_applicable(session, payment, transfer) if transfer.payment_code else "no_code"
    if reason is None:
        outcome = apply_report(session, payment.public_id, transfer_report(
            payment.public_id, transfer.amount, transfer.bank_reference), cause="bank_transfer", clock=clock,
            provider_event_id=transfer.delivery_key)
        reason = None if outcome is ReportOutcome.APPLIED else "payment_closed"
    record.payment_id = payment.id if payment is not None else None
    record.line_key = line_key = _book(session, transfer, held=reason is not None, clock=clock)
    if reason is None:
        close_identified(session, account=transfer.account_number, connection=transfer.connection,
                         code=payment.public_id, line_key=line_key, clock=clock)
    else:
        open_feed_break(session, account=transfer.account_number, connection=transfer.connection, reason=reason,
                        code=payment.public_id if payment is not None else None, line_key=line_key,
                        day=_day(transfer), ours=None, theirs=transfer.amount.amount, clock=clock)
    return _finish(record, "paid" if reason is None else "held", reason or "")


def _record(session: Session, transfer: BankTransfer, clock: Clock) -> BankTransferRecord | None:
    return insert_entity_if_absent(session, BankTransferRecord, {
        "connection": transfer.connection, "feed_id": transfer.feed_id, "bank": transfer.bank,
        "account_number": transfer.account_number, "credit": transfer.credit, "amount": transfer.amount.amount,
        "currency": transfer.amount.currency, "booked_at": transfer.booked_at, "memo": transfer.memo,
        "bank_reference": transfer.bank_reference, "payment_code": transfer.payment_code, "payment_id": None,
        "outcome": "held", "reason": "", "received_at": clock.now()})


def _earlier(session: Session, transfer: BankTransfer) -> Intake:
    """The first taking of a repeated transfer: by its feed id, else by its bank reference."""
    query = select(BankTransferRecord).where(
        (BankTransferRecord.connection == transfer.connection) & (BankTransferRecord.feed_id == transfer.feed_id)
        | (BankTransferRecord.account_number == transfer.account_number)
        & (BankTransferRecord.bank_reference == transfer.bank_reference))
    first = session.scalars(query.order_by(BankTransferRecord.id).limit(1)).one()
    return Intake(first.outcome, first.reason, first.payment_code, repeated=True)


def _payment(session: Session, code: str | None) -> Payment | None:
    if code is None:
        return None
    return session.scalars(select(Payment).where(Payment.public_id == code)).one_or_none()


def _why_not_applicable(session: Session, payment: Payment | None, transfer: BankTransfer) -> str | None:
    """None when the transfer pays ``payment`` exactly; else the reason it is held."""
    if payment is None:
        return "unknown_code"
    if payment.provider != VIETQR:
        return "not_a_transfer_payment"
    bill = session.get(Bill, payment.bill_id)
    if bill.status == BillStatus.CANCELLED:
        return "bill_cancelled"
    if bill.status == BillStatus.PAID:
        return "already_paid"
    if transfer.booked_at > payment.expires_at:
        return "late"  # booked in time but reported after the sweeper ended the attempt: it still pays
    if transfer.amount != Money(payment.amount, payment.currency):
        return "amount_short" if transfer.amount.amount < payment.amount else "amount_over"
    return None


def _day(transfer: BankTransfer) -> date:
    return transfer.booked_at.astimezone(VIETNAM).date()


def _book(session: Session, transfer: BankTransfer, *, held: bool, clock: Clock) -> str:
    """Dr the account, Cr the rail's clearing or suspense, keyed as the statement line will be; its line key.

    A statement run may have booked the line first (the feed was late): money that pays its payment then
    moves out of suspense to the rail's clearing, and held money out of the clearing it was booked to.
    """
    day = _day(transfer)
    key = line_key(transfer.bank_reference, day, transfer.amount.amount)
    line = BankCredit("matched", key, day, transfer.amount.amount, "payment", transfer.payment_code,
                      transfer.amount.currency)
    if held:
        hold_bank_line(session, transfer.account_number, line, clock)
    else:
        book_bank_line(session, transfer.account_number, line, accounts.provider_clearing(VIETQR), "bank_transfer",
                       clock)
    return key


def _finish(record: BankTransferRecord, outcome: str, reason: str) -> Intake:
    record.outcome, record.reason = outcome, reason
    return Intake(outcome, reason, record.payment_code)
