"""Background jobs of the payments package, registered with the outbox (listed in web/jobs.py).

Importing this module registers every payments job, including those defined next to their use case
(``notifications.REFRESH_JOB``, ``refunds.SEND_JOB``).

Each handler runs in the worker's transaction; a provider that is unavailable raises, and the outbox
retries the job with backoff. Handlers are idempotent: a second run finds the payment already moved.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import SYSTEM_CLOCK
from core.outbox import OutboxJob, job_handler, stage_job
from payments import expiry, idempotency, refunds
from payments.notifications import REFRESH_JOB, receive_notification
from payments.providers import get_provider
from payments.providers.sandbox import Delivery

SWEEP_JOB = "payments.sweep_stale"
EXPIRE_JOB = "payments.expire_payment"
RESOLVE_JOB = "payments.resolve_unknown"
PURGE_KEYS_JOB = "payments.purge_idempotency_keys"
SANDBOX_NOTIFY_JOB = "payments.sandbox_notify"
ALL_JOBS = (REFRESH_JOB, SWEEP_JOB, EXPIRE_JOB, RESOLVE_JOB, PURGE_KEYS_JOB, SANDBOX_NOTIFY_JOB, refunds.SEND_JOB)


@job_handler(SWEEP_JOB, max_attempts=3)
def sweep_stale(session: Session, payload: dict[str, Any]) -> None:
    """Stage one job per unknown or stale live payment (each then runs in its own transaction)."""
    for public_id in expiry.unknown_payment_ids(session, clock=SYSTEM_CLOCK):
        stage_once(session, RESOLVE_JOB, {"payment_id": public_id}, dedupe_key=f"resolve:{public_id}")
    for public_id in expiry.stale_payment_ids(session, clock=SYSTEM_CLOCK):
        stage_once(session, EXPIRE_JOB, {"payment_id": public_id}, dedupe_key=f"expire:{public_id}")


def schedule_sweep(session_factory: sessionmaker[Session]) -> None:
    """Stage the sweep now; the worker calls this periodically (e.g. every 5 minutes from Huey)."""
    with session_factory() as session, session.begin():
        stage_job(session, SWEEP_JOB, {}, clock=SYSTEM_CLOCK)
        stage_job(session, PURGE_KEYS_JOB, {}, clock=SYSTEM_CLOCK)


@job_handler(EXPIRE_JOB)
def expire_payment(session: Session, payload: dict[str, Any]) -> None:
    """Expire one payment after asking its provider."""
    expiry.expire_payment(session, payload["payment_id"], clock=SYSTEM_CLOCK)


@job_handler(RESOLVE_JOB)
def resolve_unknown(session: Session, payload: dict[str, Any]) -> None:
    """Resolve one payment in the unknown state by a status query."""
    expiry.resolve_unknown(session, payload["payment_id"], clock=SYSTEM_CLOCK)


@job_handler(PURGE_KEYS_JOB, max_attempts=3)
def purge_keys(session: Session, payload: dict[str, Any]) -> None:
    """Delete idempotency keys past their retention."""
    idempotency.purge_expired_keys(session, clock=SYSTEM_CLOCK)


def stage_sandbox_notifications(session: Session, session_id: str, deliveries: list[Delivery]) -> None:
    """Stage the sandbox's notifications to arrive after their delays (the sandbox page calls this)."""
    for delivery in deliveries:
        status = json.loads(delivery.body)["status"]
        stage_job(session, SANDBOX_NOTIFY_JOB, {"session_id": session_id, "status": status},
                  delay=delivery.delay, clock=SYSTEM_CLOCK)


@job_handler(SANDBOX_NOTIFY_JOB)
def sandbox_notify(session: Session, payload: dict[str, Any]) -> None:
    """Deliver one sandbox notification through the webhook path, signed now (as a provider's retry is)."""
    delivery = get_provider("sandbox").notification(payload["session_id"], payload["status"])
    receive_notification(session, "sandbox", delivery.body, delivery.headers, clock=SYSTEM_CLOCK)


def stage_once(session: Session, name: str, payload: dict[str, Any], *, dedupe_key: str) -> bool:
    """Stage a job unless one with ``dedupe_key`` was ever staged; return whether it was staged now."""
    if session.scalar(select(OutboxJob.id).where(OutboxJob.dedupe_key == dedupe_key)) is not None:
        return False
    stage_job(session, name, payload, dedupe_key=dedupe_key, clock=SYSTEM_CLOCK)
    return True
