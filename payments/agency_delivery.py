"""Delivering callbacks over HTTP: signed, logged per attempt, retried at 1 min, 5 min, 1 h, 1 d and 2 d.

Design overview
---------------
* The outbox job (``agency.deliver_callback``) makes one attempt. It never raises for a receiver's
  failure: it logs the attempt and stages the next one with the schedule's delay, so the retry plan is
  ours and not the outbox's generic backoff. After the last retry the delivery is ``failed`` and the
  bill's next event is released (one dead receiver must not hold later events forever).
* The POST runs between two transactions (``core.outbox.effect_job``): nothing is locked while a
  receiver answers, so a slow one cannot hold the ledger or, on SQLite, the one write lock.
* At least once: a worker that dies after the POST but before its commit sends again; receivers
  dedupe by ``Gateway-Event-Id`` and order by ``sequence``. Two attempts that overlap are both logged,
  and only the one that started from the delivery's current count decides what comes next.
* Only 2xx counts. Redirects are not followed (a callback URL is registered, not discovered).
* The sender is configured at start-up (``configure``) with the keyring that opens signing secrets.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from sqlalchemy.orm import Session

from agencies.clients import ClientKeyring, signing_secrets
from agencies.models import ApiClient
from core.clock import SYSTEM_CLOCK, Clock
from core.errors import NotFound
from core.outbox import OutsideEffect, effect_job, stage_job
from payments.agency_callbacks import DELIVER_JOB, SIGNATURE_HEADER, lock_bill_events, next_waiting, release, sign
from payments.agency_models import CallbackAttempt, CallbackDelivery

log = logging.getLogger(__name__)

#: Waits before retries 1..5 (GOV.UK Pay's schedule); six attempts in all.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(hours=1), timedelta(days=1),
                timedelta(days=2))
TIMEOUT = (3.05, 10)


@dataclass(frozen=True)
class Answer:
    """What a receiver answered: a status, or None with an error when nothing came back.

    ``error`` also carries the start of a refusing receiver's body, so the back office shows why.
    """

    status_code: int | None
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


Post = Callable[[str, bytes, dict[str, str]], Answer]
_ERROR_LENGTH = 300  # CallbackAttempt.error
_QUERY = re.compile(r"\?[^\s'\")]*")  # a URL's query may carry a token: never stored or logged


def http_post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST with short timeouts and no redirects."""
    try:
        response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False,
                                 stream=True)
    except requests.RequestException as exc:
        return Answer(None, _QUERY.sub("", f"{type(exc).__name__}: {exc}")[:_ERROR_LENGTH])
    with response:
        if 200 <= response.status_code < 300:
            return Answer(response.status_code)
        said = response.raw.read(_ERROR_LENGTH, decode_content=True).decode("utf-8", "replace")
    return Answer(response.status_code, f"HTTP {response.status_code}: {' '.join(said.split())}"[:_ERROR_LENGTH])


@dataclass
class _Config:
    keyring: ClientKeyring | None = None
    post: Post = http_post


_CONFIG = _Config()


def configure(keyring: ClientKeyring, post: Post = http_post) -> None:
    """Give the sender the keyring (and, for tests, another transport)."""
    _CONFIG.keyring, _CONFIG.post = keyring, post


@dataclass(frozen=True)
class _Plan:
    """One attempt, prepared: what to send where, and how many attempts the delivery had then."""

    delivery_id: int
    bill_id: int
    attempts_before: int
    url: str | None
    body: bytes
    headers: dict[str, str]
    trigger: str
    clock: Clock


@dataclass(frozen=True)
class _Sent:
    answer: Answer
    duration_ms: int


def _prepare(session: Session, payload: dict[str, Any], clock: Clock = SYSTEM_CLOCK) -> _Plan | None:
    delivery = session.get(CallbackDelivery, payload["delivery_id"])
    if delivery is None or delivery.status != "pending":
        return None  # delivered or failed meanwhile: a duplicate job does nothing
    client = session.get(ApiClient, delivery.client_id)
    body = delivery.body.encode()
    signed = headers(delivery, client, body, clock) if client.callback_url else {}
    return _Plan(delivery.id, delivery.bill_id, delivery.attempts, client.callback_url or None, body, signed,
                 payload.get("trigger", "job")[:100], clock)


def _call(plan: _Plan) -> _Sent:
    started = time.perf_counter()
    answer = _CONFIG.post(plan.url, plan.body, plan.headers) if plan.url else Answer(None, "no_callback_url")
    if not answer.accepted:
        log.warning("callback refused", extra={"delivery_id": plan.delivery_id, "status_code": answer.status_code,
                                                "error": answer.error})
    return _Sent(answer, int((time.perf_counter() - started) * 1000))


def _record(session: Session, plan: _Plan, sent: _Sent) -> None:
    lock_bill_events(session, plan.bill_id)  # before deciding what comes next (see lock_bill_events)
    delivery = session.get(CallbackDelivery, plan.delivery_id, with_for_update=True, populate_existing=True)
    clock, answer = plan.clock, sent.answer
    session.add(CallbackAttempt(delivery_id=delivery.id, attempted_at=clock.now(), status_code=answer.status_code,
                                error=answer.error, duration_ms=sent.duration_ms, trigger=plan.trigger))
    raced = delivery.status != "pending" or delivery.attempts != plan.attempts_before
    delivery.attempts += 1
    if raced:  # another attempt ran meanwhile and already decided what comes next: only log this one
        session.flush()
        return
    if answer.accepted:
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


#: The outbox job (``agency.deliver_callback``): one attempt, the POST outside any transaction.
DELIVERY = effect_job(DELIVER_JOB, OutsideEffect(_prepare, _call, _record), max_attempts=3)


def deliver(session: Session, delivery_id: int, *, clock: Clock = SYSTEM_CLOCK, trigger: str = "job") -> Answer | None:
    """Make one attempt at a pending delivery in the caller's transaction; schedule the next or release."""
    plan = _prepare(session, {"delivery_id": delivery_id, "trigger": trigger}, clock)
    if plan is None:
        return None
    sent = _call(plan)
    _record(session, plan, sent)
    return sent.answer


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
    delivery = session.get(CallbackDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no callback delivery {delivery_id}", code="delivery_not_found")
    lock_bill_events(session, delivery.bill_id)
    session.refresh(delivery, with_for_update=True)
    if delivery.status in ("delivered", "failed"):
        delivery.status, delivery.next_attempt_at = "pending", clock.now()
        session.flush()
        stage_job(session, DELIVER_JOB, {"delivery_id": delivery.id, "trigger": f"resend:{actor}"}, clock=clock,
                  dedupe_key=f"callback:{delivery.id}:resend:{delivery.attempts + 1}")
    return delivery
