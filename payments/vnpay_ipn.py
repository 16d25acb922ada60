"""VNPay's IPN: the server-to-server message that tells the outcome of a payment, answered with ``RspCode``.

Design overview
---------------
VNPay sends the IPN until it gets ``00`` or ``02``, so the answer is part of the protocol:

====  =======================================================================================
97    the hash does not verify: nothing is read, nothing is written
01    no VNPay payment has this ``vnp_TxnRef`` (or it is for another terminal)
04    the amount is not the payment's: nothing is written, finance sees the logged error
02    the payment was already confirmed (or already ended and this IPN ends nothing new)
00    the outcome is applied (``confirmation.apply_report``) in this transaction
99    anything else (VNPay retries)
====  =======================================================================================

The checks run under the bill and payment locks (``lock_payment``), so ten copies of one IPN arriving at
once confirm it once: the first answers 00, the others find it confirmed and answer 02. An IPN is itself
signed by VNPay, so its outcome is applied as a report (unlike posted notifications, which only trigger a
status query); a later ``querydr`` or IPN can only move the payment forward, never back.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from payments import vnpay_protocol as protocol
from payments.confirmation import apply_report, lock_payment
from payments.errors import NotificationRejected, PaymentError
from payments.models.billing import LIVE_PAYMENT_STATUSES, Payment
from payments.providers import get_provider
from payments.providers.base import ProviderStatus
from payments.providers.vnpay import NAME, VnpayProvider
from payments.states import CAPTURED

log = logging.getLogger(__name__)


def receive_ipn(session: Session, params: Mapping[str, str], *, clock: Clock) -> dict[str, str]:
    """Check and apply one IPN; return the ``{"RspCode", "Message"}`` VNPay expects."""
    try:
        with session.begin_nested():  # an answer other than 00 leaves nothing written
            return protocol.ipn_answer(_apply(session, params, clock=clock))
    except NotificationRejected:
        return protocol.ipn_answer(protocol.IPN_BAD_CHECKSUM)
    except PaymentError as exc:  # a value the protocol does not allow, or VNPay not set up here
        log.warning("VNPay IPN not applied", extra={"code": exc.code, "error": exc.message})
        return protocol.ipn_answer(protocol.IPN_OTHER)


def _apply(session: Session, params: Mapping[str, str], *, clock: Clock) -> str:
    provider = get_provider(NAME)
    if not isinstance(provider, VnpayProvider):
        return protocol.IPN_OTHER
    ipn = provider.read_ipn(params)
    public_id = session.scalar(select(Payment.public_id).where(Payment.provider == NAME,
                                                               Payment.public_id == ipn.txn_ref))
    if public_id is None or ipn.tmn_code != provider.tmn_code:
        return protocol.IPN_ORDER_NOT_FOUND
    _, payment = lock_payment(session, public_id)
    if (payment.amount, payment.currency) != (ipn.amount.amount, ipn.amount.currency):
        log.error("VNPay IPN amount is not the payment's", extra={
            "payment_id": payment.id, "expected_amount": payment.amount, "reported_amount": ipn.amount.amount})
        return protocol.IPN_WRONG_AMOUNT
    if not _changes_something(payment.status, ipn.status):
        return protocol.IPN_ALREADY_CONFIRMED
    apply_report(session, public_id, ipn.report(payment.provider_session_id or ipn.txn_ref), cause="ipn",
                 clock=clock, provider_event_id=f"ipn:{ipn.transaction_no or ipn.txn_ref}:{ipn.status.value}")
    return protocol.IPN_CONFIRMED


def _changes_something(current: str, reported: ProviderStatus) -> bool:
    # Captured money is confirmed for good; an ended attempt takes only a success (money VNPay took late).
    if current in CAPTURED:
        return False
    if current in LIVE_PAYMENT_STATUSES:
        return True
    return reported is ProviderStatus.SUCCEEDED
