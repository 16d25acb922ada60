"""The contract every payment provider implements, and the small values that cross it.

Design overview
---------------
A provider adapts one payment rail (the embedded sandbox, Stripe Checkout, later VNPay or VietQR) to
four questions the gateway asks. Providers **never touch the database and never decide a payment's
state**: they take and return the frozen dataclasses below, and the services in ``payments`` decide
the next state from what the provider *reports*. That keeps every rail behind one table of states.

Rules every implementation follows:

* **Idempotent creation.** ``create_session`` receives ``SessionRequest.idempotency_key``, derived
  from our payment id. Called twice with the same key (a retry after a timeout, a worker killed after
  the call and before recording its result) it must return the *same* session, never open a second.
* **The caller's amount is the truth to check against.** ``StatusReport`` carries the amount,
  currency and our reference as the provider sees them; the service refuses a success whose amount,
  currency or reference differs from the payment.
* **Failures are typed.** Raise ``ProviderUnavailable`` when the outcome is unknown (timeout, 5xx,
  connection reset): the caller may retry with the same idempotency key. Raise ``ProviderError`` when
  the provider refused the request for good (bad parameters, amount above its maximum).
* **Notifications are verified, then re-fetched.** ``parse_notification`` checks the signature over
  the raw request body (never re-serialised JSON) and its timestamp, and returns who it is about. It
  raises ``NotificationRejected`` for anything it cannot trust. The service then calls
  ``fetch_status`` and acts on that answer, so a replayed or reordered notification can only ever
  make us look at the provider's current truth.
* **Nothing sensitive leaves the provider.** Card numbers never reach the gateway (hosted pages);
  reports carry only ids, amounts and outcome codes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.money import Money


class ProviderStatus(StrEnum):
    """A provider's view of one session, normalised across rails."""

    #: Open, or being processed: nothing final has happened yet.
    PENDING = "pending"
    #: The money was taken.
    SUCCEEDED = "succeeded"
    #: The payer's bank or the provider refused; no money taken.
    DECLINED = "declined"
    #: The payer (or we) cancelled the session; no money taken.
    CANCELLED = "cancelled"
    #: The session timed out; no money taken.
    EXPIRED = "expired"
    #: The provider failed; no money taken.
    ERROR = "error"


@dataclass(frozen=True)
class SessionRequest:
    """What the gateway asks a provider to collect."""

    #: Our payment's public id; the provider echoes it back as ``reference``.
    payment_reference: str
    amount: Money
    description: str
    #: Where the provider sends the payer afterwards; it only triggers a status query, it decides nothing.
    return_url: str
    #: When our payment was created; with ``expires_at`` it lets a provider derive its own deadline
    #: deterministically (a retried request must carry identical parameters).
    opened_at: datetime
    expires_at: datetime
    #: Deterministic per operation (``payment:<id>:create``): a retry must not open a second session.
    idempotency_key: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderSession:
    """A hosted payment session opened at the provider."""

    session_id: str
    #: The provider's hosted page the payer is redirected to.
    next_url: str
    expires_at: datetime


@dataclass(frozen=True)
class StatusReport:
    """What the provider says about one session right now."""

    session_id: str
    status: ProviderStatus
    #: Our payment reference as the provider recorded it.
    reference: str
    amount: Money
    #: The provider's id of the money movement (e.g. a Stripe PaymentIntent), once there is one.
    payment_ref: str | None = None
    #: The provider's reason for a failure, e.g. ``card_declined``.
    failure_code: str | None = None


@dataclass(frozen=True)
class Notification:
    """A verified provider notification: which event, about which session."""

    event_id: str
    session_id: str
    #: The status the notification claims; advisory only, the service re-fetches before acting.
    claimed_status: ProviderStatus | None = None


@dataclass(frozen=True)
class RefundRequest:
    """A refund of part or all of a captured payment."""

    session_id: str
    payment_ref: str | None
    amount: Money
    #: Deterministic per refund (``refund:<id>``): a retry must not refund twice.
    idempotency_key: str
    #: What the payment took, so a rail that asks (VNPay: 02 full, 03 partial) can tell a full refund.
    captured: Money | None = None
    #: Who asked for the refund (an officer's id), for rails that record it.
    requested_by: str = "gateway"


@dataclass(frozen=True)
class RefundResult:
    """The provider's answer to a refund."""

    refund_ref: str
    succeeded: bool
    failure_code: str | None = None


class PaymentProvider(ABC):
    """One payment rail. Subclasses live one per file in ``payments.providers``."""

    #: Registry name, stored on every payment (``sandbox``, ``stripe``).
    name: str

    @abstractmethod
    def create_session(self, request: SessionRequest) -> ProviderSession:
        """Open a hosted session for ``request``; the same idempotency key returns the same session."""

    @abstractmethod
    def fetch_status(self, session_id: str) -> StatusReport:
        """Return the provider's current view of ``session_id``; raise ProviderUnavailable if it cannot tell."""

    @abstractmethod
    def cancel_session(self, session_id: str) -> StatusReport:
        """Close ``session_id`` so it can no longer be paid, and return its status afterwards.

        The answer may be SUCCEEDED: the payer paid just before the cancel arrived, and that success
        wins. Cancelling a finished session is not an error; it returns the final status.
        """

    @abstractmethod
    def parse_notification(self, raw_body: bytes, headers: Mapping[str, str]) -> Notification:
        """Verify a notification's signature and age over ``raw_body``; raise NotificationRejected if untrusted."""

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund ``request.amount`` of a captured session; idempotent by ``request.idempotency_key``."""
        from payments.errors import ProviderError

        raise ProviderError(f"provider {self.name} does not support refunds", code="refunds_not_supported")
