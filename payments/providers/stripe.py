"""The Stripe provider: hosted Checkout, zero-decimal VND, signed webhooks. The only module importing ``stripe``.

Design overview
---------------
* Hosted Checkout (``mode=payment``): card data never touches the gateway (PCI DSS SAQ A). VND is a
  zero-decimal currency for Stripe, so ``unit_amount=200000`` is 200,000 đ; no ×100 anywhere.
* Our ids travel with the session: ``client_reference_id`` is the payment's public id, and metadata
  (on the session and its PaymentIntent) carries the payment and bill ids.
* ``expires_at`` matches our expiry window. Stripe requires at least 30 minutes from the call, so we
  send the later of our deadline and ``opened_at`` + 35 minutes; our sweeper expires the session
  explicitly at our deadline anyway. It is derived from the request, not the current time, so a retry
  sends identical parameters (Stripe refuses a reused key with different ones). A first call more
  than 5 minutes after the payment was created is therefore refused by Stripe.
* Every write carries a deterministic idempotency key from the caller (``payment:<id>:create``,
  ``refund:<id>``), so the SDK's network retries and our own retries never create a second session or
  refund. The SDK is built per provider (``StripeClient``), never through module-level globals, and its
  API base can point at a local fake for tests.
* Webhooks: ``construct_event`` over the raw body, tried against every configured signing secret
  (rotation), with a 300 s tolerance. Only ``checkout.session.*`` events name a session; others are
  acknowledged and ignored. The service re-fetches the session before acting.
* Payouts for reconciliation: ``payouts_report`` lists the paid payouts that arrived in a window with
  their balance transactions (charges, refunds, fees; the payout's own entry left out, as in Stripe's
  itemised report), in the API's minor units, as one canonical JSON document. The importer stores it
  unchanged like any report file (the same answer twice is the same file) and
  ``payments.reconciliation.stripe_api`` reads it.
* Errors: connection problems, rate limits and 5xx become ``ProviderUnavailable`` (retry with the same
  key); anything else Stripe refuses becomes ``ProviderError``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta

import stripe

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

SIGNATURE_HEADER = "Stripe-Signature"
TOLERANCE_SECONDS = 300
#: Stripe refuses a Checkout Session that expires sooner than 30 minutes after it is created; this
#: leaves 5 minutes between our payment's creation and the call to Stripe.
STRIPE_MIN_LIFETIME = timedelta(minutes=35)
#: Stripe takes at most eight digits per charge, even in zero-decimal currencies (about 99.99 million đ).
MAX_AMOUNT = 99_999_999
_SESSION_EVENTS = {
    "checkout.session.completed": None,
    "checkout.session.async_payment_succeeded": ProviderStatus.SUCCEEDED,
    "checkout.session.async_payment_failed": ProviderStatus.DECLINED,
    "checkout.session.expired": ProviderStatus.EXPIRED,
}

log = logging.getLogger(__name__)


class StripeProvider(PaymentProvider):
    """Stripe Checkout behind the provider contract."""

    name = "stripe"

    def __init__(self, *, secret_key: str, webhook_secrets: Sequence[str], clock: Clock,
                 api_base: str | None = None, timeout_seconds: int = 10, max_network_retries: int = 2):
        if not webhook_secrets:
            raise ValueError("Stripe needs at least one webhook signing secret")
        self._secret_key = secret_key
        self._webhook_secrets = tuple(webhook_secrets)
        self._clock = clock
        self._client = stripe.StripeClient(
            secret_key, base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries, http_client=stripe.RequestsClient(timeout=timeout_seconds))

    def create_session(self, request: SessionRequest) -> ProviderSession:
        """Create a Checkout Session (or get the same one back for a repeated idempotency key)."""
        if request.amount.amount > MAX_AMOUNT:
            raise ProviderError(f"Stripe takes at most {MAX_AMOUNT} per payment", code="amount_above_provider_maximum")
        expires_at = max(request.expires_at, request.opened_at + STRIPE_MIN_LIFETIME)
        metadata = {"payment_id": request.payment_reference, **request.metadata}
        params = {
            "mode": "payment", "client_reference_id": request.payment_reference,
            "line_items": [{"quantity": 1, "price_data": {
                "currency": request.amount.currency.lower(), "unit_amount": request.amount.amount,
                "product_data": {"name": request.description[:250] or request.payment_reference}}}],
            "success_url": request.return_url, "cancel_url": request.return_url,
            "expires_at": int(expires_at.timestamp()), "metadata": metadata,
            "payment_intent_data": {"metadata": metadata}}
        session = self._call(self._client.v1.checkout.sessions.create, params,
                             {"idempotency_key": request.idempotency_key})
        return ProviderSession(session.id, session.url, expires_at)

    def fetch_status(self, session_id: str) -> StatusReport:
        """Retrieve the Checkout Session and report its status."""
        return _report(self._call(self._client.v1.checkout.sessions.retrieve, session_id))

    def cancel_session(self, session_id: str) -> StatusReport:
        """Expire an open session; a completed one keeps (and reports) its outcome."""
        report = self.fetch_status(session_id)
        if report.status is not ProviderStatus.PENDING:
            return report
        try:
            return _report(self._call(self._client.v1.checkout.sessions.expire, session_id))
        except ProviderError:  # it completed between our two calls: the fresh status decides
            return self.fetch_status(session_id)

    def parse_notification(self, raw_body: bytes, headers: Mapping[str, str]) -> Notification:
        """Verify a Stripe webhook against each signing secret and return the session it is about."""
        signature = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), None)
        event = None
        for secret in self._webhook_secrets:
            try:
                event = stripe.Webhook.construct_event(raw_body, signature, secret, tolerance=TOLERANCE_SECONDS,
                                                       api_key=self._secret_key)
                break
            except stripe.SignatureVerificationError:
                continue
            except ValueError:
                raise NotificationRejected("Stripe webhook body is not JSON") from None
        if event is None:
            raise NotificationRejected("Stripe webhook signature does not verify with any configured secret")
        if event.type not in _SESSION_EVENTS:
            return Notification(event.id, "", None)
        return Notification(event.id, event.data.object.id, _SESSION_EVENTS[event.type])

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund part or all of the session's PaymentIntent, once per idempotency key."""
        if not request.payment_ref:
            raise ProviderError("Stripe refund needs the PaymentIntent id", code="refund_not_captured")
        refund = self._call(self._client.v1.refunds.create,
                            {"payment_intent": request.payment_ref, "amount": request.amount.amount},
                            {"idempotency_key": request.idempotency_key})
        return RefundResult(refund.id, refund.status in ("succeeded", "pending"),
                            None if refund.status in ("succeeded", "pending") else refund.status)

    def payouts_report(self, *, arrived_from: datetime, arrived_before: datetime) -> bytes:
        """The paid payouts arriving in [from, before) with their balance transactions, as canonical JSON."""
        window = {"gte": int(arrived_from.timestamp()), "lt": int(arrived_before.timestamp())}
        payouts = [{"id": p.id, "amount": p.amount, "currency": p.currency, "arrival_date": p.arrival_date,
                    "status": p.status, "balance_transactions": self._payout_items(p.id)}
                   for p in self._all(self._client.v1.payouts.list, {"arrival_date": window, "status": "paid"})]
        document = {"source": "stripe_api", "arrival_date": window, "payouts": payouts}
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def _payout_items(self, payout_id: str) -> list[dict]:
        listed = self._all(self._client.v1.balance_transactions.list, {"payout": payout_id, "expand": ["data.source"]})
        return [{"id": t.id, "type": t.type, "reporting_category": t.reporting_category, "amount": t.amount,
                 "fee": t.fee, "net": t.net, "currency": t.currency, "created": t.created,
                 "available_on": t.available_on, "source": _source(t.source)}
                for t in listed if t.type != "payout"]

    def _all(self, method, params: dict) -> Iterator:
        # Our own paging loop, so every page goes through ``_call``'s error mapping.
        page = self._call(method, {**params, "limit": 100})
        while True:
            yield from page.data
            if not page.has_more or not page.data:
                return
            page = self._call(method, {**params, "limit": 100, "starting_after": page.data[-1].id})

    def _call(self, method, *args):
        try:
            return method(*args)
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            log.warning("stripe unavailable", extra={"error_type": type(exc).__name__,
                                                     "provider_message": str(exc)[:300]})
            raise ProviderUnavailable(f"Stripe unavailable: {type(exc).__name__}") from None
        except stripe.StripeError as exc:
            # Stripe's own words say why (a wrong key, a missing object, a bad parameter): the operator
            # needs them. They name our objects and parameters, never card data (hosted checkout).
            log.warning("stripe refused the request", extra={
                "http_status": exc.http_status, "code": exc.code, "error_type": type(exc).__name__,
                "provider_message": (exc.user_message or str(exc) or "")[:300],
                "stripe_request_id": getattr(exc, "request_id", None)})
            if exc.http_status is not None and exc.http_status >= 500:
                raise ProviderUnavailable(f"Stripe answered {exc.http_status}") from None
            raise ProviderError(f"Stripe refused the request: {exc.code or type(exc).__name__}") from None


def _source(source) -> dict | None:
    """The charge or refund behind a balance transaction: its ids and our metadata, nothing about the card."""
    if source is None or isinstance(source, str):
        return {"id": source} if source else None
    data = source.to_dict()
    intent = data.get("payment_intent")
    return {"id": data["id"], "object": data.get("object"),
            "payment_intent": intent.get("id") if isinstance(intent, dict) else intent,
            "metadata": {k: str(v) for k, v in (data.get("metadata") or {}).items()},
            "description": data.get("description")}


def _report(session) -> StatusReport:
    """Translate a Checkout Session into a status report."""
    status = ProviderStatus.PENDING
    if session.status == "expired":
        status = ProviderStatus.EXPIRED
    elif session.status == "complete" and session.payment_status in ("paid", "no_payment_required"):
        status = ProviderStatus.SUCCEEDED
    intent = session.payment_intent
    return StatusReport(session_id=session.id, status=status, reference=session.client_reference_id or "",
                        amount=Money(session.amount_total or 0, (session.currency or "vnd").upper()),
                        payment_ref=intent if isinstance(intent, str) or intent is None else intent.id)
