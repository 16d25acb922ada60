"""Helpers for the report tests: the ledger's own movement of a period, and a provider's payout report."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import text

from payments.reconciliation.imports import import_report

_POSTINGS = text("""
SELECT a.code, p.side, p.amount FROM ledger_postings p
JOIN ledger_transactions t ON t.id = p.transaction_id JOIN ledger_accounts a ON a.id = p.account_id
WHERE t.effective_date >= :first AND t.effective_date <= :last
""")


def ledger_movement(db, first: date, last: date) -> Counter:
    """Debit-positive movement per kind of account over every posting of the period, whatever posted it.

    Read with plain SQL and summed in Python, apart from the report's own query, so a test comparing the
    two compares two independent computations.
    """
    movement: Counter = Counter()
    for code, side, amount in db.execute(_POSTINGS, {"first": first, "last": last}):
        signed = amount if side == "debit" else -amount
        kind = code.split(":")[0]
        movement["collection" if kind in ("budget_payable", "fee_retained") else kind] += signed
        if side == "debit":
            movement[f"{kind} debits"] += amount
    return movement


_HEADER = ("balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,"
           "automatic_payout_id,payment_metadata[payment_code]")


def import_payout_report(db, settled: list[tuple[object, str]], *, name: str = "payouts.csv") -> None:
    """Import a Stripe itemized payout reconciliation report placing each ``(payment, payout id)`` pair."""
    rows = [f"txn_{payment.public_id}_{payout},2026-03-02 03:00:00,2026-03-04 00:00:00,vnd,{payment.amount},0,"
            f"{payment.amount},charge,{payout},{payment.public_id}" for payment, payout in settled]
    content = "\n".join([_HEADER, *rows]) + "\n"
    import_report(db, content.encode(), "stripe", filename=name, imported_by="test")
