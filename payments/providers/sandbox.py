"""The sandbox provider: a deterministic stand-in for a card acquirer, embedded in the gateway.

Design overview
---------------
* The payer is sent to the sandbox's hosted page (``next_url``), types a test card number, and the web
  layer calls ``pay(session_id, card_number)``. The card decides the outcome:

  ==================  ==================================================================
  4242424242424242    success; a notification is sent at once
  4000000000000002    declined (``card_declined``)
  4000000000000119    provider error, no money taken (``processing_error``)
  4000000000000259    success, but the notification arrives 10 minutes late
  4000000000000341    success, but no notification and the first status query times out
  ==================  ==================================================================

  Any other number is declined as ``unknown_test_card``.
* Notifications are signed like Stripe's (``Sandbox-Signature: t=<unix>,v1=<HMAC-SHA256 hex of
  "t.body">``) and go through the same webhook path and the same verification as a real provider.
* Session ids derive from the idempotency key, so a repeated ``create_session`` returns the same
  session; like Stripe, the same key with different parameters is refused. ``sessions_opened``
  counts distinct sessions (tests assert "one provider session").
* State lives in the sandbox's own table (``sandbox_store``), standing in for the provider's own
  database: every gunicorn worker, job worker and node sees the same sessions, and they survive a
  restart. Each change is one short locked transaction, so two workers cannot both pay a session.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from core.clock import Clock
from core.money import Money
from payments.errors import NotificationRejected, ProviderError, ProviderUnavailable
from payments.providers.base import (
    Notification,
    PaymentProvider,
    ProviderSession,
    ProviderStatus,
    RefundRequest,
    RefundResult,
    SessionRequest,
    StatusReport,
)
from payments.providers.sandbox_store import SandboxStore, SessionMissing, SessionRow

SIGNATURE_HEADER = "Sandbox-Signature"
LATE_NOTIFICATION_DELAY = timedelta(minutes=10)


@dataclass(frozen=True)
class CardBehaviour:
    """What a test card does."""

    status: ProviderStatus
    failure_code: str | None = None
    notify_after: timedelta | None = timedelta(0)
    query_timeouts: int = 0


TEST_CARDS: dict[str, CardBehaviour] = {
    "4242424242424242": CardBehaviour(ProviderStatus.SUCCEEDED),
    "4000000000000002": CardBehaviour(ProviderStatus.DECLINED, "card_declined"),
    "4000000000000119": CardBehaviour(ProviderStatus.ERROR, "processing_error"),
    "4000000000000259": CardBehaviour(ProviderStatus.SUCCEEDED, notify_after=LATE_NOTIFICATION_DELAY),
    "4000000000000341": CardBehaviour(ProviderStatus.SUCCEEDED, notify_after=None, query_timeouts=1),
}
UNKNOWN_CARD = CardBehaviour(ProviderStatus.DECLINED, "unknown_test_card")


@dataclass(frozen=True)
class Delivery:
    """A signed notification for the web layer (or a job) to POST to the webhook after ``delay``."""

    body: bytes
    headers: dict[str, str]
    delay: timedelta


class SandboxProvider(PaymentProvider):
    """Deterministic test payments selected by card number; see the module docstring."""

    name = "sandbox"

    def __init__(self, *, secret: str, base_url: str, clock: Clock, store: SandboxStore,
                 tolerance_seconds: int = 300):
        self._secret = secret.encode()
        self._base_url = base_url.rstrip("/")
        self._clock = clock
        self._tolerance = tolerance_seconds
        self._store = store

    @property
    def sessions_opened(self) -> int:
        """How many distinct sessions were opened."""
        return self._store.count()

    def create_session(self, request: SessionRequest) -> ProviderSession:
        """Open (or, for a known idempotency key, return) a session."""
        session_id = "sbx_" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:24]
        now = self._clock.now()
        row = SessionRow(session_id, _digest(request), request.payment_reference, request.amount.amount,
                         request.amount.currency, request.expires_at, ProviderStatus.PENDING.value, None, None,
                         0, 0, now, now)
        if self._store.insert_or_get(row).request_digest != row.request_digest:  # as Stripe: one key, one request
            raise ProviderError("sandbox idempotency key reused with different parameters",
                                code="idempotency_key_reused_at_provider")
        return ProviderSession(session_id, f"{self._base_url}/sandbox/pay/{session_id}", request.expires_at)

    def fetch_status(self, session_id: str) -> StatusReport:
        """Return the session's status; a pending session past its expiry reports EXPIRED."""
        with self._changing(session_id) as row:
            if row.query_timeouts > 0:
                row.query_timeouts -= 1
                timed_out = True
            else:
                timed_out = False
                self._expire_if_due(row)
        if timed_out:  # raised after the decrement is written, so the next query answers
            raise ProviderUnavailable("sandbox status query timed out (test card 4000000000000341)")
        return _report(row)

    def cancel_session(self, session_id: str) -> StatusReport:
        """Cancel a pending session; a finished one keeps (and reports) its outcome."""
        with self._changing(session_id) as row:
            if row.status == ProviderStatus.PENDING:
                row.status, row.failure_code = ProviderStatus.CANCELLED.value, "cancelled"
        return _report(row)

    def pay(self, session_id: str, card_number: str) -> list[Delivery]:
        """Simulate the payer submitting ``card_number`` on the hosted page; return notifications to send."""
        behaviour = TEST_CARDS.get(card_number.replace(" ", ""), UNKNOWN_CARD)
        with self._changing(session_id) as row:
            self._expire_if_due(row)
            if row.status != ProviderStatus.PENDING:
                return []  # a finished session cannot be paid again
            row.status, row.failure_code = behaviour.status.value, behaviour.failure_code
            if behaviour.status is ProviderStatus.SUCCEEDED:
                row.payment_ref = f"sbxpay_{session_id[4:]}"
            row.query_timeouts = behaviour.query_timeouts
            if behaviour.notify_after is not None:
                row.events += 1  # numbered in the same change as the outcome: one write per card, not two
        if behaviour.notify_after is None:
            return []
        return [self._delivery(session_id, row.events, behaviour.status, behaviour.notify_after)]

    def is_open(self, session_id: str) -> bool:
        """Whether the hosted page may still take a card for ``session_id`` (False when unknown)."""
        try:
            row = self._store.get(session_id)
        except SessionMissing:
            return False
        return row.status == ProviderStatus.PENDING and self._clock.now() < row.expires_at

    def cancel_by_payer(self, session_id: str) -> list[Delivery]:
        """Simulate the payer pressing "cancel" on the hosted page."""
        report = self.cancel_session(session_id)
        return [self.notification(session_id, report.status)]

    def notification(self, session_id: str, status: ProviderStatus, *, delay: timedelta = timedelta(0)) -> Delivery:
        """Return a signed notification that ``session_id`` is now ``status`` (each call is a new event)."""
        with self._changing(session_id) as row:
            row.events += 1
        return self._delivery(session_id, row.events, status, delay)

    def _delivery(self, session_id: str, event_number: int, status: ProviderStatus, delay: timedelta) -> Delivery:
        event_id = f"evt_{session_id[4:]}_{event_number}"
        status = ProviderStatus(status)
        body = json.dumps({"id": event_id, "type": f"session.{status.value}", "session_id": session_id,
                           "status": status.value}, separators=(",", ":")).encode()
        return Delivery(body, {SIGNATURE_HEADER: self.sign(body)}, delay)

    def sign(self, body: bytes, *, timestamp: int | None = None) -> str:
        """Return the signature header value for ``body`` at ``timestamp`` (default: now)."""
        timestamp = int(self._clock.now().timestamp()) if timestamp is None else timestamp
        digest = hmac.new(self._secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={digest}"

    def parse_notification(self, raw_body: bytes, headers: Mapping[str, str]) -> Notification:
        """Verify the signature and age of a sandbox notification and return what it is about."""
        header = _header(headers, SIGNATURE_HEADER)
        parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
        try:
            timestamp = int(parts["t"])
        except (KeyError, ValueError):
            raise NotificationRejected("sandbox signature has no timestamp") from None
        expected = self.sign(raw_body, timestamp=timestamp).split("v1=", 1)[1]
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            raise NotificationRejected("sandbox signature does not match the body")
        if abs(self._clock.now().timestamp() - timestamp) > self._tolerance:
            raise NotificationRejected("sandbox notification is too old (replay?)")
        return _notification_from(raw_body)

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund a captured sandbox session (always succeeds; idempotent by key)."""
        if self._get(request.session_id).status != ProviderStatus.SUCCEEDED:
            raise ProviderError("sandbox session was not paid", code="refund_not_captured")
        return RefundResult("sbxre_" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:24], True)

    def _expire_if_due(self, row: SessionRow) -> None:
        if row.status == ProviderStatus.PENDING and self._clock.now() >= row.expires_at:
            row.status = ProviderStatus.EXPIRED.value

    def _get(self, session_id: str) -> SessionRow:
        try:
            return self._store.get(session_id)
        except SessionMissing:
            raise _missing(session_id) from None

    @contextmanager
    def _changing(self, session_id: str) -> Iterator[SessionRow]:
        try:
            with self._store.changing(session_id, self._clock.now()) as row:
                yield row
        except SessionMissing:
            raise _missing(session_id) from None


def _missing(session_id: str) -> ProviderError:
    return ProviderError(f"sandbox has no session {session_id}", code="provider_session_not_found")


def _report(row: SessionRow) -> StatusReport:
    return StatusReport(row.session_id, ProviderStatus(row.status), row.reference, Money(row.amount, row.currency),
                        payment_ref=row.payment_ref, failure_code=row.failure_code)


def _digest(request: SessionRequest) -> str:
    canonical = json.dumps({
        "reference": request.payment_reference, "amount": request.amount.amount,
        "currency": request.amount.currency, "description": request.description, "return_url": request.return_url,
        "opened_at": request.opened_at.isoformat(), "expires_at": request.expires_at.isoformat(),
        "key": request.idempotency_key, "metadata": dict(sorted(request.metadata.items()))},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    raise NotificationRejected(f"missing {name} header")


def _notification_from(raw_body: bytes) -> Notification:
    try:
        payload = json.loads(raw_body)
        return Notification(str(payload["id"]), str(payload["session_id"]), ProviderStatus(payload["status"]))
    except (ValueError, KeyError, TypeError):
        raise NotificationRejected("sandbox notification body is not understood") from None
