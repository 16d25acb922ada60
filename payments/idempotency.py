"""Idempotency keys for money-moving requests (Brandur's atomic phases; GOV.UK Pay's semantics).

Design overview
---------------
* A key is claimed by ``INSERT … ON CONFLICT DO NOTHING`` on the unique ``(scope, key)``; the
  database, not Python, decides which of a hundred concurrent requests owns it.
* A request that finds the key already there gets, in this order:
  a different operation or body -> ``IdempotencyKeyReused`` (409 ``idempotency_key_reused``);
  a stored response -> that response, replayed byte for byte (whatever its status);
  a lock younger than the lease -> ``IdempotencyKeyInProgress`` (409 ``idempotency_key_in_progress``);
  otherwise (the owner released it after a provider failure, or died) -> the key, to resume from its
  ``recovery_point``.
* Work is split into atomic phases, each its own transaction that ends by advancing the recovery
  point; the provider call sits alone between two phases (``payments.checkout``).
* A request that fails validation rolls its claim back with everything else, so it may be retried.
* Keys are kept ``RETENTION`` (24 h, as Stripe and GOV.UK Pay) and then purged.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from core.clock import Clock
from payments.errors import IdempotencyKeyInProgress, IdempotencyKeyInvalid, IdempotencyKeyReused
from payments.models.idempotency import IdempotencyKey
from payments.sql import insert_if_absent

KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,255}")
#: A request holding a key longer than this is presumed dead and may be taken over.
LOCK_LEASE = timedelta(seconds=90)
RETENTION = timedelta(hours=24)


@dataclass(frozen=True)
class StoredResponse:
    """A response kept to be replayed for the same key."""

    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Claim:
    """A key this request now owns (``response`` is None) or the stored response to replay."""

    key_id: int
    recovery_point: str
    resource_id: int | None = None
    response: StoredResponse | None = None


def fingerprint(operation: str, body: Mapping[str, Any]) -> str:
    """Return the SHA-256 of the operation and the request body in canonical JSON."""
    canonical = json.dumps({"operation": operation, "body": body}, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str | None) -> str:
    """Return ``key`` if it is 1-255 characters of ``[A-Za-z0-9_-]``; raise IdempotencyKeyInvalid otherwise."""
    if key is None or not KEY_PATTERN.fullmatch(key):
        raise IdempotencyKeyInvalid("Idempotency-Key must be 1 to 255 letters, digits, '-' or '_'")
    return key


def claim_key(session: Session, *, scope: str, key: str, operation: str, body: Mapping[str, Any],
              clock: Clock, lease: timedelta = LOCK_LEASE) -> Claim:
    """Claim ``key`` for this request, or return its stored response; see the module docstring."""
    check_key(key)
    request_hash = fingerprint(operation, body)
    now = clock.now()
    new_id = insert_if_absent(session, IdempotencyKey.__table__, {
        "scope": scope, "key": key, "operation": operation, "request_hash": request_hash,
        "recovery_point": "started", "locked_at": now, "created_at": now}, ["scope", "key"])
    if new_id is not None:
        return Claim(new_id, "started")
    row = session.scalars(select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
                          .with_for_update().execution_options(populate_existing=True)).one()
    if (row.operation, row.request_hash) != (operation, request_hash):
        raise IdempotencyKeyReused("this Idempotency-Key was used with a different request")
    if row.response_status is not None:
        stored = StoredResponse(row.response_status, row.response_body)
        return Claim(row.id, row.recovery_point, row.resource_id, stored)
    if row.locked_at is not None and row.locked_at > now - lease:
        raise IdempotencyKeyInProgress("a request with this Idempotency-Key is in progress; retry shortly")
    row.locked_at = now
    session.flush()
    return Claim(row.id, row.recovery_point, row.resource_id)


def advance(session: Session, key_id: int, recovery_point: str, *, resource_id: int | None = None) -> None:
    """Record that the phase ending at ``recovery_point`` committed (call inside that phase)."""
    values = {"recovery_point": recovery_point} | ({"resource_id": resource_id} if resource_id is not None else {})
    _update(session, key_id, values)


def finish(session: Session, key_id: int, response: StoredResponse) -> None:
    """Store the final response and release the key; later requests with it replay the response."""
    _update(session, key_id, {"recovery_point": "finished", "response_status": response.status,
                              "response_body": response.body, "locked_at": None})


def release(session: Session, key_id: int) -> None:
    """Unlock the key without a response (a provider call failed) so a retry may resume at once."""
    _update(session, key_id, {"locked_at": None}, _UNANSWERED)


_KEYS = IdempotencyKey.__table__
_BY_ID = _KEYS.update().where(_KEYS.c.id == bindparam("key_id"))
_UNANSWERED = _BY_ID.where(_KEYS.c.response_status.is_(None))


def _update(session: Session, key_id: int, values: dict[str, Any], statement=_BY_ID) -> None:
    # One UPDATE by primary key, no read first (a cached statement: this runs twice per payment).
    session.execute(statement, {"key_id": key_id, **values})
    loaded = session.identity_map.get(session.identity_key(IdempotencyKey, key_id))
    if loaded is not None:  # a copy of the row in this session reads the new values
        session.expire(loaded)


def purge_expired_keys(session: Session, *, clock: Clock, retention: timedelta = RETENTION) -> int:
    """Delete keys older than ``retention``; return how many went."""
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < clock.now() - retention))
    return result.rowcount
