"""Our side of a run: the payments the payments package recorded as finished in a period.

A payment's ``public_id`` is its payment code (``GW…``, payments/codes.py), the reference that Stripe
metadata, VNPay's TxnRef and a VietQR transfer purpose carry, so provider and bank lines pair with it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import VIETNAM, to_vietnam
from payments.models.billing import Bill, Payment
from payments.reconciliation.matching import ExpectedItem
from payments.states import CAPTURED, FAILED

#: Providers whose payments reach the agency's bank account one by one (a citizen's transfer by VietQR).
#: Card and wallet payments arrive there inside a provider's payout instead, which bank runs expect separately.
BANK_TRANSFER_PROVIDERS: tuple[str, ...] = ("vietqr",)
#: Captured (succeeded, or a duplicate capture owed back) means money should be at the provider.
_STATUS = {**{str(s): "succeeded" for s in CAPTURED}, **{str(s): "failed" for s in FAILED}}


def vietnam_day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """Return the UTC instants [start of ``first``, end of ``last``) of Vietnamese calendar days."""
    start = datetime.combine(first, time(0), tzinfo=VIETNAM).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=VIETNAM).astimezone(UTC)
    return start, end


def expected_items(session: Session, *, period_start: date, period_end: date, providers: tuple[str, ...] | None = None,
                   context_days: int = 7) -> list[ExpectedItem]:
    """Finished payments of the period (and ``context_days`` before it, as context) as run items."""
    start, end = vietnam_day_bounds(period_start - timedelta(days=context_days), period_end)
    finished = Payment.finished_at
    query = (select(Payment.public_id, Payment.amount, Payment.currency, Payment.status, finished,
                    Bill.service_code, Bill.agency_code)
             .join(Bill, Bill.id == Payment.bill_id)
             .where(Payment.status.in_(tuple(_STATUS)), finished >= start, finished < end)
             .order_by(Payment.id))
    if providers is not None:
        query = query.where(Payment.provider.in_(providers))
    items = []
    for public_id, amount, currency, status, at, service, agency in session.execute(query):
        day = to_vietnam(at).date()
        items.append(ExpectedItem(reference=public_id, amount=amount, currency=currency, status=_STATUS[status],
                                  occurred_on=day, in_period=day >= period_start, service_code=service,
                                  agency_code=agency))
    return items
