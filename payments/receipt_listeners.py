"""Who hears that a receipt was issued, in the transaction that issues it (e.g. the e-mail of the receipt).

Payments knows nothing of who listens: a package above it registers a listener at import (``mailing.jobs``
sends the receipt to a payer who agreed to e-mail). A listener runs inside the settlement's transaction,
so what it stages (an outbox job) commits or rolls back with the receipt; it must stay cheap, since a
receipt is issued with every payment, and must not raise for anything but a broken database.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from core.clock import Clock
from payments.models.billing import Bill
from payments.models.receipts import Receipt

ReceiptListener = Callable[[Session, Bill, Receipt, Clock], None]
_LISTENERS: list[ReceiptListener] = []


def on_receipt_issued(listener: ReceiptListener) -> ReceiptListener:
    """Register ``listener(session, bill, receipt, clock)``; registering the same function twice is a no-op."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)
    return listener


def receipt_issued(session: Session, bill: Bill, receipt: Receipt, *, clock: Clock) -> Receipt:
    """Tell every listener that ``receipt`` was just issued for ``bill``; returns the receipt."""
    for listener in _LISTENERS:
        listener(session, bill, receipt, clock)
    return receipt
