"""Delivering callbacks over HTTP: signed, logged per attempt, retried at 1 min, 5 min, 1 h, 1 d and 2 d.

Design overview
---------------
* The outbox job (``agency.deliver_callback``) makes one attempt. It never raises for a receiver's
  failure: it logs the attempt and stages the next one with the schedule's delay, so the retry plan is
  ours and not the outbox's generic backoff. After the last retry the delivery is ``failed`` and the
  bill's next event is released (one dead receiver must not hold later events forever).
* At least once: a worker that dies after the POST but before its commit sends again; receivers
  dedupe by ``Gateway-Event-Id`` and order by ``sequence``.
* Only 2xx counts. Redirects are not followed (a callback URL is registered, not discovered).
* The sender is configured at start-up (``configure``) with the keyring that opens signing secrets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from core.errors import NotFound
from core.outbox import job_handler, stage_job
from identity.api_client_models import ApiClient
from identity.api_clients import ClientKeyring, signing_secrets
from payments.agency_callbacks import DELIVER_JOB, SIGNATURE_HEADER, next_waiting, release, sign
from payments.agency_models import CallbackAttempt, CallbackDelivery

#: Waits before retries 1..5 (GOV.UK Pay's schedule); six attempts in all.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(hours=1), timedelta(days=1),
                timedelta(days=2))
TIMEOUT = (3.05, 10)


@dataclass(frozen=True)
class Answer:
    """What a receiver answered: a status, or None with an error when nothing came back."""

    status_code: int | None
    error: str | None = None


Post = Callable[[str, bytes, dict[str, str]], Answer]


def http_post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST with short timeouts and no redirects."""
    try:
        response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        return Answer(None, type(exc).__name__)
    response.close()
    return Answer(response.status_code)


@dataclass
class _Config:
    keyring: ClientKeyring | None = None
    post: Post = http_post


_CONFIG = _Config()


def configure(keyring: ClientKeyring, post: Post = http_post) -> None:
    """Give the sender the keyring (and, for tests, another transport)."""
    _CONFIG.keyring, _CONFIG.post = keyring, post


def deliver(session: Session, delivery_id: int, *, clock: Clock = SYSTEM_CLOCK, trigger: str = "job") -> Answer | None:
    """Make one attempt at a pending delivery; schedule the next or release the bill's next event."""
    delivery = session.get(CallbackDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.status != "pending":
        return None  # delivered or failed meanwhile: a duplicate job does nothing
    client = session.get(ApiClient, delivery.client_id)
    answer = _attempt(session, delivery, client, clock=clock, trigger=trigger)
    if answer.status_code is not None and 200 <= answer.status_code < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", clock.now(), None
        _release_next(session, delivery, clock)
    elif delivery.attempts <= len(RETRY_DELAYS):
        delay = RETRY_DELAYS[delivery.attempts - 1]
        delivery.next_attempt_at = clock.now() + delay
        stage_job(session, DELIVER_JOB, {"delivery_id": delivery.id}, delay=delay, clock=clock,
                  dedupe_key=f"callback:{delivery.id}:{delivery.attempts + 1}")
    else:
        delivery.status, delivery.next_attempt_at = "failed", None
        _release_next(session, delivery, clock)
    session.flush()
    return answer


def _attempt(session: Session, delivery: CallbackDelivery, client: ApiClient, *, clock: Clock,
             trigger: str) -> Answer:
    body = delivery.body.encode()
    started = time.perf_counter()
    if not client.callback_url:
        answer = Answer(None, "no_callback_url")
    else:
        answer = _CONFIG.post(client.callback_url, body, headers(delivery, client, body, clock))
    delivery.attempts += 1
    session.add(CallbackAttempt(delivery_id=delivery.id, attempted_at=clock.now(), status_code=answer.status_code,
                                error=answer.error, duration_ms=int((time.perf_counter() - started) * 1000),
                                trigger=trigger[:100]))
    return answer


def headers(delivery: CallbackDelivery, client: ApiClient, body: bytes, clock: Clock) -> dict[str, str]:
    """The signed headers of one attempt (a fresh timestamp each time)."""
    if _CONFIG.keyring is None:
        raise RuntimeError("agency callbacks are not configured (payments.agency_delivery.configure)")
    secrets_ = signing_secrets(client, _CONFIG.keyring, clock.now())
    return {"Content-Type": "application/json; charset=utf-8", "User-Agent": "city-payment-gateway/1",
            "Gateway-Event-Id": delivery.event_id, "Gateway-Event-Type": delivery.event_type,
            "Gateway-Sequence": str(delivery.sequence),
            SIGNATURE_HEADER: sign(body, secrets_, int(clock.now().timestamp()))}


def _release_next(session: Session, delivery: CallbackDelivery, clock: Clock) -> None:
    session.flush()
    waiting = next_waiting(session, delivery.bill_id)
    if waiting is not None:
        release(session, waiting, now=clock.now(), clock=clock)


def resend(session: Session, delivery_id: int, *, actor: str, clock: Clock = SYSTEM_CLOCK) -> CallbackDelivery:
    """Send a delivered or failed event again now (a back-office action); the body is unchanged."""
    delivery = session.get(CallbackDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise NotFound(f"no callback delivery {delivery_id}", code="delivery_not_found")
    if delivery.status in ("delivered", "failed"):
        delivery.status, delivery.next_attempt_at = "pending", clock.now()
        session.flush()
        stage_job(session, DELIVER_JOB, {"delivery_id": delivery.id, "trigger": f"resend:{actor}"}, clock=clock,
                  dedupe_key=f"callback:{delivery.id}:resend:{delivery.attempts + 1}")
    return delivery


@job_handler(DELIVER_JOB, max_attempts=3)
def deliver_job(session: Session, payload: dict[str, Any]) -> None:
    """Outbox job: one attempt at one callback."""
    deliver(session, payload["delivery_id"], trigger=payload.get("trigger", "job"))
