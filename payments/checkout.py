"""Starting a payment exactly once per Idempotency-Key, in atomic phases around the provider call.

Design overview
---------------
Brandur's atomic phases (research/reliability.md section 1). Like a job, this use case owns its
transactions, because the provider call must sit between two of them:

1. **claim** (one transaction): claim the key; create the ``created`` payment under the bill's lock;
   recovery point ``payment_created``. A domain error (bill paid, attempt in progress) rolls back the
   claim too, so nothing is stored and the request may be retried.
2. **provider call** (no transaction, no lock held): open the hosted session with the idempotency key
   ``payment:<id>:create``. If the provider is unavailable the key is released and the error raised;
   a retry (or a worker that crashed here) calls again with the same key and gets the same session.
3. **record** (one transaction): store the session, move the payment to ``submitted``, store the
   response on the key. Every later request with the key replays it. If the provider refused the
   request for good, the payment ends in ``error`` instead and that is the stored response.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock
from payments import agency_callbacks as callbacks
from payments import idempotency
from payments.confirmation import lock_payment
from payments.errors import ProviderError, ProviderUnavailable
from payments.idempotency import Claim, StoredResponse
from payments.models.billing import Payment
from payments.providers import get_provider
from payments.providers.base import PaymentProvider, ProviderSession, SessionRequest
from payments.starting import (
    DEFAULT_EXPIRY_WINDOW,
    PayerSession,
    create_payment,
    payment_summary,
    record_provider_session,
    session_request,
)
from payments.states import PaymentStatus, transition

OPERATION = "start_payment"


def start_payment(session_factory: sessionmaker[Session], *, scope: str, idempotency_key: str,
                  bill_public_id: str, provider_name: str, payer: PayerSession, return_url: str | None,
                  clock: Clock, expiry_window: timedelta = DEFAULT_EXPIRY_WINDOW) -> StoredResponse:
    """Start paying a bill, once per key; returns the response to send (201 with the payment summary)."""
    # The fingerprint covers what the client sent; who sent it is the key's scope.
    body = {"bill_id": bill_public_id, "provider": provider_name, "return_url": return_url}
    claim, request = _claim_and_create(session_factory, scope=scope, key=idempotency_key, body=body,
                                       bill=bill_public_id, provider_name=provider_name, payer=payer,
                                       return_url=return_url, clock=clock, expiry_window=expiry_window)
    if claim.response is not None:
        return claim.response
    request = request or _stored_request(session_factory, claim)
    try:
        # The key's fingerprint covers the provider, so a resumed key's payment has this provider too.
        opened = _open_provider_session(session_factory, claim, get_provider(provider_name), request)
    except ProviderUnavailable:  # outcome unknown: the key was released, a retry resumes here
        raise
    except ProviderError:  # refused for good
        return _record_refusal(session_factory, claim, request.payment_reference, clock=clock)
    return _record(session_factory, claim, request.payment_reference, opened, clock=clock)


def _claim_and_create(session_factory, *, scope, key, body, bill, provider_name, payer, return_url,
                      clock, expiry_window) -> tuple[Claim, SessionRequest | None]:
    """Phase 1; also returns the provider request of a payment it created (None when resuming or replaying)."""
    with session_factory() as session, session.begin():
        claim = idempotency.claim_key(session, scope=scope, key=key, operation=OPERATION, body=body, clock=clock)
        if claim.response is not None or claim.recovery_point != "started":
            return claim, None
        payment = create_payment(session, bill, provider_name=provider_name, payer=payer, return_url=return_url,
                                 clock=clock, expiry_window=expiry_window)
        idempotency.advance(session, claim.key_id, "payment_created", resource_id=payment.id)
        # Built from the rows this phase writes, so it equals what _stored_request reads after a crash.
        return Claim(claim.key_id, "payment_created", payment.id), session_request(payment)


def _stored_request(session_factory, claim: Claim) -> SessionRequest:
    """The provider request of the payment a resumed key created in an earlier request."""
    with session_factory() as session:
        return session_request(session.get(Payment, claim.resource_id))


def _open_provider_session(session_factory, claim: Claim, provider: PaymentProvider,
                           request: SessionRequest) -> ProviderSession:
    try:
        return provider.create_session(request)
    except ProviderUnavailable:
        with session_factory() as session, session.begin():
            idempotency.release(session, claim.key_id)
        raise


def _record_refusal(session_factory, claim: Claim, payment_public_id: str, *, clock: Clock) -> StoredResponse:
    # The provider refused for good (bad parameters, amount over its limit): the attempt ends in
    # error and that outcome is the key's stored response; a new attempt needs a new key.
    with session_factory() as session, session.begin():
        _, payment = lock_payment(session, payment_public_id)
        transition(session, payment, PaymentStatus.ERROR, cause="provider_session", clock=clock,
                   failure_code="provider_refused")
        callbacks.payment_changed(session, payment, clock=clock)
        response = StoredResponse(201, payment_summary(payment))
        idempotency.finish(session, claim.key_id, response)
        return response


def _record(session_factory, claim: Claim, payment_public_id: str, opened: ProviderSession, *,
            clock: Clock) -> StoredResponse:
    with session_factory() as session, session.begin():
        payment = record_provider_session(session, payment_public_id, opened, clock=clock)
        response = StoredResponse(201, payment_summary(payment))
        idempotency.finish(session, claim.key_id, response)
        return response
