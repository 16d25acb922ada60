"""Idempotency keys: claimed once, replayed for the same body, refused for another or while in use."""

from __future__ import annotations

from datetime import timedelta

import pytest

from payments import idempotency
from payments.errors import IdempotencyKeyInProgress, IdempotencyKeyInvalid, IdempotencyKeyReused
from payments.idempotency import StoredResponse, claim_key
from payments.models.idempotency import IdempotencyKey
from tests.payments.helpers import count

BODY = {"bill_id": "b1", "provider": "sandbox"}


def _claim(db, clock, key="key-1", body=BODY, **extra):
    return claim_key(db, scope="citizen:1", key=key, operation="start_payment", body=body, clock=clock, **extra)


def test_the_first_request_claims_the_key(db, clock):
    claim = _claim(db, clock)
    assert claim.response is None and claim.recovery_point == "started"


def test_the_same_body_replays_the_stored_response(db, clock):
    claim = _claim(db, clock)
    idempotency.finish(db, claim.key_id, StoredResponse(201, {"payment_id": "p1"}))
    again = _claim(db, clock, body=dict(reversed(list(BODY.items()))))  # key order does not matter
    assert again.response == StoredResponse(201, {"payment_id": "p1"})


def test_a_different_body_with_the_same_key_is_refused(db, clock):
    _claim(db, clock)
    with pytest.raises(IdempotencyKeyReused) as error:
        _claim(db, clock, body={**BODY, "provider": "stripe"})
    assert error.value.code == "idempotency_key_reused"


def test_a_key_in_use_is_refused_until_its_lease_runs_out(db, clock):
    first = _claim(db, clock)
    with pytest.raises(IdempotencyKeyInProgress) as error:
        _claim(db, clock)
    assert error.value.code == "idempotency_key_in_progress"
    clock.advance(seconds=91)
    taken_over = _claim(db, clock)
    assert taken_over.key_id == first.key_id and taken_over.response is None


def test_a_released_key_resumes_at_its_recovery_point(db, clock):
    claim = _claim(db, clock)
    idempotency.advance(db, claim.key_id, "payment_created", resource_id=42)
    idempotency.release(db, claim.key_id)
    resumed = _claim(db, clock)
    assert (resumed.recovery_point, resumed.resource_id) == ("payment_created", 42)


def test_keys_are_scoped_to_their_owner(db, clock):
    _claim(db, clock)
    other = claim_key(db, scope="citizen:2", key="key-1", operation="start_payment", body=BODY, clock=clock)
    assert other.response is None


@pytest.mark.parametrize("key", ["", "a" * 256, "has space", "ký-tự", None])
def test_a_malformed_key_is_refused(db, clock, key):
    with pytest.raises(IdempotencyKeyInvalid):
        _claim(db, clock, key=key)


def test_keys_are_purged_after_a_day(db, clock):
    _claim(db, clock, key="old")
    clock.advance(hours=24, seconds=1)
    _claim(db, clock, key="new")
    assert idempotency.purge_expired_keys(db, clock=clock) == 1
    assert count(db, IdempotencyKey, IdempotencyKey.key == "new") == 1


def test_a_lease_can_be_chosen(db, clock):
    _claim(db, clock)
    clock.advance(seconds=10)
    assert _claim(db, clock, lease=timedelta(seconds=5)).response is None
