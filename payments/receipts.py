"""Issuing e-receipts: one per settled bill, in the settlement's transaction, numbered without gaps.

Design overview
---------------
* Decree 123/2020 Art. 31-32: a receipt is issued at collection and numbered per series with a
  7-digit number that restarts at 1 each 1 January. The year is the calendar year in
  Asia/Ho_Chi_Minh at issue, so a payment at 00:30 on 1 January in Hà Nội (17:30 UTC the day before)
  starts the new year's numbering.
* Gap-free under concurrency: the number comes from ``INSERT INTO receipt_counters … ON CONFLICT DO UPDATE
  SET last_number = last_number + 1 RETURNING``, in the same transaction as the receipt. The row lock makes concurrent
  issuers wait for each other; a rolled-back transaction rolls its number back too, so no number is
  ever skipped or used twice (a unique constraint backs this up).
* A receipt is a frozen snapshot of the bill. After a partial refund it is cancelled and a replacement
  issued for what is still held; after a full refund it is only cancelled.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.clock import Clock
from payments.bills import new_public_id
from payments.models.billing import Bill, Payment
from payments.models.receipts import Receipt, ReceiptCounter
from payments.receipt_listeners import receipt_issued
from payments.sql import insert_entity

#: The receipt series (ký hiệu) of this gateway; the two digits of the year are added when displayed.
DEFAULT_SERIES = "BLTT"


def next_number(session: Session, series: str, year: int) -> int:
    """Return the next receipt number of ``series`` in ``year``, holding the counter's lock until commit."""
    # One upsert: the year's first receipt creates the counter at 1, later ones add 1 under its row lock.
    return session.execute(_next_number(session.get_bind().dialect.name),
                           {"series": series, "year": year, "last_number": 1}).scalar_one()


@cache
def _next_number(dialect_name: str) -> Insert:
    """The counter's upsert, built once per dialect (series and year come as parameters)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    counter = ReceiptCounter.__table__
    return (dialect.insert(counter)
            .on_conflict_do_update(index_elements=[counter.c.series, counter.c.year],
                                   set_={"last_number": counter.c.last_number + 1})
            .returning(counter.c.last_number))


def issue_receipt(session: Session, bill: Bill, payment: Payment | None, *, clock: Clock,
                  series: str = DEFAULT_SERIES, replaces: Receipt | None = None) -> Receipt:
    """Issue the receipt of a settled bill (or the replacement of ``replaces``); returns an existing one."""
    existing = issued_receipt(session, bill.id)
    if existing is not None and existing is not replaces:
        return existing
    return _new_receipt(session, bill, payment, clock=clock, series=series, replaces=replaces)


def issue_settlement_receipt(session: Session, bill: Bill, payment: Payment | None, *, clock: Clock) -> Receipt:
    """Issue the receipt of a bill settling now: the caller moved it from open to paid under its lock.

    An open bill has no receipt (one is only issued when a bill is paid, and a bill never reopens), so
    there is nothing to look up first; ``uq_receipts_one_issued_per_bill`` would refuse a second one.
    """
    return _new_receipt(session, bill, payment, clock=clock, series=DEFAULT_SERIES, replaces=None)


def _new_receipt(session: Session, bill: Bill, payment: Payment | None, *, clock: Clock, series: str,
                 replaces: Receipt | None) -> Receipt:
    year = clock.today_in_vietnam().year
    held = payment.amount - payment.refunded_amount if payment else 0
    if replaces is not None:  # first, so the new receipt is the bill's only issued one
        cancel_receipt(session, replaces, clock=clock)
    # The counter's row lock, held until commit, is taken last: pending changes are written before it.
    session.flush()
    # One INSERT … RETURNING, the row made the object (payments.sql): a receipt is issued with every payment.
    # Listeners (the payer's e-mail) stage their work in this transaction (payments.receipt_listeners).
    return receipt_issued(session, bill, insert_entity(session, Receipt, {
        "public_id": new_public_id(), "bill_id": bill.id, "payment_id": payment.id if payment else None,
        "series": series, "year": year, "number": next_number(session, series, year), "status": "issued",
        "replaces_id": replaces.id if replaces else None, "agency_code": bill.agency_code,
        "payer_id_hash": bill.payer_id_hash, "payer_name": bill.payer_name, "payer_masked_id": bill.payer_masked_id,
        "service_code": bill.service_code, "fee_kind": bill.fee_kind, "base_amount": bill.base_amount,
        "amount_paid": held, "currency": bill.currency, "subsidy_lines": list(bill.subsidy_lines),
        "explanation": dict(bill.explanation), "method": payment.provider if payment else "subsidy",
        "collected_at": bill.paid_at or clock.now(), "issued_at": clock.now()}), clock=clock)


def cancel_receipt(session: Session, receipt: Receipt, *, clock: Clock) -> None:
    """Cancel an issued receipt (a refund); its number stays used."""
    receipt.status = "cancelled"
    receipt.cancelled_at = clock.now()
    session.flush()


def issued_receipt(session: Session, bill_id: int) -> Receipt | None:
    """Return the bill's valid receipt, if it has one."""
    query = select(Receipt).where(Receipt.bill_id == bill_id, Receipt.status == "issued")
    return session.scalars(query).one_or_none()


def receipt_number(receipt: Receipt) -> str:
    """Return the receipt's printed reference: series, two digits of the year, 7-digit number."""
    return f"{receipt.series}{receipt.year % 100:02d}-{receipt.number:07d}"


def receipt_document(receipt: Receipt) -> dict[str, object]:
    """Return the receipt as the canonical JSON document that the web layer signs (JWS) and renders.

    Only what the printed receipt shows: the payer by name and masked ID, never the ID hash.
    """
    return {
        "receipt_id": receipt.public_id, "number": receipt_number(receipt), "series": receipt.series,
        "year": receipt.year, "sequence": receipt.number, "status": receipt.status,
        "collector": receipt.agency_code, "payer": {"name": receipt.payer_name, "id": receipt.payer_masked_id},
        "service": receipt.service_code, "fee_kind": receipt.fee_kind, "currency": receipt.currency,
        "base_amount": receipt.base_amount, "amount_paid": receipt.amount_paid,
        "subsidies": [dict(line) for line in receipt.subsidy_lines],
        "legal_basis": receipt.explanation, "method": receipt.method,
        "collected_at": receipt.collected_at.isoformat(), "issued_at": receipt.issued_at.isoformat(),
    }
