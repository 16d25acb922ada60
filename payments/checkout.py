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
from payments import idempotency
from payments.confirmation import lock_payment
from payments.errors import ProviderError, ProviderUnavailable
from payments.idempotency import Claim, StoredResponse
from payments.models.billing import Payment
from payments.providers import get_provider
from payments.providers.base import ProviderSession
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
    claim = _claim_and_create(session_factory, scope=scope, key=idempotency_key, body=body, bill=bill_public_id,
                              provider_name=provider_name, payer=payer, return_url=return_url, clock=clock,
                              expiry_window=expiry_window)
    if claim.response is not None:
        return claim.response
    try:
        opened = _open_provider_session(session_factory, claim)
    except ProviderUnavailable:  # outcome unknown: the key was released, a retry resumes here
        raise
    except ProviderError:  # refused for good
        return _record_refusal(session_factory, claim, clock=clock)
    return _record(session_factory, claim, opened, clock=clock)


def _claim_and_create(session_factory, *, scope, key, body, bill, provider_name, payer, return_url,
                      clock, expiry_window) -> Claim:
    with session_factory() as session, session.begin():
        claim = idempotency.claim_key(session, scope=scope, key=key, operation=OPERATION, body=body, clock=clock)
        if claim.response is not None or claim.recovery_point != "started":
            return claim
        payment = create_payment(session, bill, provider_name=provider_name, payer=payer, return_url=return_url,
                                 clock=clock, expiry_window=expiry_window)
        idempotency.advance(session, claim.key_id, "payment_created", resource_id=payment.id)
        return Claim(claim.key_id, "payment_created", payment.id)


def _open_provider_session(session_factory, claim: Claim) -> ProviderSession:
    with session_factory() as session:
        payment = session.get(Payment, claim.resource_id)
        request = session_request(payment)
        provider = get_provider(payment.provider)
    try:
        return provider.create_session(request)
    except ProviderUnavailable:
        with session_factory() as session, session.begin():
            idempotency.release(session, claim.key_id)
        raise


def _record_refusal(session_factory, claim: Claim, *, clock: Clock) -> StoredResponse:
    # The provider refused for good (bad parameters, amount over its limit): the attempt ends in
    # error and that outcome is the key's stored response; a new attempt needs a new key.
    with session_factory() as session, session.begin():
        _, payment = lock_payment(session, session.get(Payment, claim.resource_id).public_id)
        transition(session, payment, PaymentStatus.ERROR, cause="provider_session", clock=clock,
                   failure_code="provider_refused")
        response = StoredResponse(201, payment_summary(payment))
        idempotency.finish(session, claim.key_id, response)
        return response


def _record(session_factory, claim: Claim, opened: ProviderSession, *, clock: Clock) -> StoredResponse:
    with session_factory() as session, session.begin():
        payment = session.get(Payment, claim.resource_id)
        payment = record_provider_session(session, payment.public_id, opened, clock=clock)
        response = StoredResponse(201, payment_summary(payment))
        idempotency.finish(session, claim.key_id, response)
        return response
