"""An agency's system asks for the VietQR of a bill (to print it on a paper bill, or show it in its own app).

The bill's open VietQR attempt is returned; if it has none, one is opened through the same phased start as
a citizen's (``payments.checkout.start_payment``), keyed by the bill and its number of attempts so that two
requests at once open one. The agency billed the citizen after identifying them itself: it vouches for
the payer, at the level the service asks (``acr`` ``agency``, the client as the subject).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock
from payments.bills import live_payment
from payments.checkout import start_payment
from payments.errors import BillNotPayable, PaymentInProgress
from payments.models.billing import Bill, Payment
from payments.providers.vietqr import NAME as VIETQR
from payments.starting import PayerSession
from payments.vietqr_payments import TransferInstructions, instructions


def open_vietqr(session_factory: sessionmaker[Session], *, client_id: int, bill: Bill, return_url: str,
                clock: Clock, expiry_window: timedelta) -> TransferInstructions:
    """The bill's open VietQR attempt, opening one if it has none; PaymentInProgress if another rail's is open."""
    with session_factory() as session:
        live = live_payment(session, bill.id)
        if live is not None and live.provider != VIETQR:
            raise PaymentInProgress(f"bill {bill.public_id} has a {live.provider} payment in progress")
        attempts = session.scalar(select(func.count()).select_from(Payment).where(Payment.bill_id == bill.id))
    if live is None:
        start_payment(session_factory, scope=f"api_client:{client_id}",
                      idempotency_key=f"vietqr-{bill.public_id}-{attempts}", bill_public_id=bill.public_id,
                      provider_name=VIETQR, payer=PayerSession(eid_level=bill.min_eid_level, sub=f"client:{client_id}",
                                                               acr="agency"),
                      return_url=return_url, clock=clock, expiry_window=expiry_window)
    with session_factory() as session:
        opened = live_payment(session, bill.id)
        if opened is None:  # the attempt ended at once (the bill was paid or cancelled meanwhile)
            raise BillNotPayable(f"bill {bill.public_id} cannot be paid now")
        return instructions(session, opened.public_id)
