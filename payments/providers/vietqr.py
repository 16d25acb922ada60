"""VietQR bank transfers (NAPAS 247) as a payment provider: the citizen's own bank app moves the money.

Design overview
---------------
There is no provider server to open a session at: the "session" is the payment's code, which the QR
carries as the transfer's purpose (``payments.vietqr``), and the hosted page is the gateway's own page
showing the QR (``/pay/vietqr/<code>``). So the provider is a few lines and touches no network:

* ``create_session`` names the page; the same payment always gets the same session (its code).
* ``fetch_status`` can only say the QR is still open (``PENDING``): the provider has nobody to ask. What
  arrived is reported by the bank side, never by the browser: a bank feed's webhook or a statement,
  which ``payments.bank_intake`` matches by the code and applies as the success report of this rail.
* ``cancel_session`` ends nothing at the bank (the QR may still be on the citizen's phone): it answers
  ``CANCELLED``, and a transfer that arrives later is booked and handed to a finance officer.
* Refunds go back by an officer's bank transfer, not through a rail API: ``refund`` is not supported.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.clock import Clock
from core.money import Money
from payments.errors import NotificationRejected
from payments.providers.base import (
    Notification,
    PaymentProvider,
    ProviderSession,
    ProviderStatus,
    SessionRequest,
    StatusReport,
)

NAME = "vietqr"
PAGE = "/pay/vietqr/"


class VietQrProvider(PaymentProvider):
    """Payment by a VietQR transfer to the collecting agency's account; confirmed by the bank feed."""

    name = NAME

    def __init__(self, *, base_url: str, clock: Clock):
        self._base_url = base_url.rstrip("/")
        self._clock = clock

    def create_session(self, request: SessionRequest) -> ProviderSession:
        """The payment's QR page; its code is the session (so a retry gets the same one)."""
        code = request.payment_reference
        return ProviderSession(session_id=code, next_url=f"{self._base_url}{PAGE}{code}",
                               expires_at=request.expires_at)

    def fetch_status(self, session_id: str) -> StatusReport:
        """Open: only the bank feed can tell that money arrived, and it reports to ``payments.bank_intake``."""
        return StatusReport(session_id=session_id, status=ProviderStatus.PENDING, reference=session_id,
                            amount=Money(0, "VND"))

    def cancel_session(self, session_id: str) -> StatusReport:
        """Nothing to close at the bank: the attempt is cancelled here and a later transfer goes to an officer."""
        return StatusReport(session_id=session_id, status=ProviderStatus.CANCELLED, reference=session_id,
                            amount=Money(0, "VND"))

    def parse_notification(self, raw_body: bytes, headers: Mapping[str, str]) -> Notification:
        """VietQR has no provider notifications: bank feeds post to ``/webhooks/bank/<connection>``."""
        raise NotificationRejected("VietQR transfers are reported by bank feeds, not provider notifications",
                                   code="notification_not_supported")


def transfer_report(code: str, amount: Money, bank_reference: str | None) -> StatusReport:
    """A bank transfer of ``amount`` naming payment ``code``, as this rail's success report."""
    return StatusReport(session_id=code, status=ProviderStatus.SUCCEEDED, reference=code, amount=amount,
                        payment_ref=bank_reference)
