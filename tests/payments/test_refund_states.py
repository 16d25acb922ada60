"""Refund statuses change only along the refund transition table, and each change is recorded."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from core.money import vnd
from payments.errors import InvalidRefundTransition
from payments.models.refunds import Refund, RefundEvent
from payments.providers.base import RefundResult
from payments.refund_states import TRANSITIONS, RefundStatus, transition_refund
from payments.refunds import approve_refund, reject_refund, request_refund, send_refund
from tests.payments.test_refunds import _paid


def _history(db, refund) -> list[tuple]:
    return [(e.from_status, e.to_status, e.event, e.actor) for e in db.scalars(
        select(RefundEvent).where(RefundEvent.refund_id == refund.id).order_by(RefundEvent.id))]


def _request(db, clock, payment, threshold=None):
    return request_refund(db, payment.public_id, amount=vnd(150_000), expected_refundable=vnd(200_000),
                          reason="hồ sơ trùng", requested_by="finance-1", clock=clock, approval_threshold=threshold)


def test_an_approved_refund_paid_out_reads_as_it_happened(db, clock, sandbox):
    refund = _request(db, clock, _paid(db, clock, sandbox), threshold=vnd(100_000))
    approve_refund(db, refund.public_id, approver="finance-2", clock=clock)
    send_refund(db, refund.public_id, clock=clock)
    assert _history(db, refund) == [(None, "awaiting_approval", "requested_for_approval", "finance-1"),
                                    ("awaiting_approval", "submitted", "approved", "finance-2"),
                                    ("submitted", "succeeded", "paid_out", "provider")]


def test_a_rejected_refund_and_one_the_provider_refused_end_their_histories(db, clock, sandbox, monkeypatch):
    rejected = _request(db, clock, _paid(db, clock, sandbox), threshold=vnd(100_000))
    reject_refund(db, rejected.public_id, approver="finance-2", clock=clock)
    assert _history(db, rejected)[-1] == ("awaiting_approval", "rejected", "rejected", "finance-2")
    refused = _request(db, clock, _paid(db, clock, sandbox, agency_reference="HS-2"))
    monkeypatch.setattr(sandbox, "refund", lambda request: RefundResult("sbxre_x", False, "insufficient_balance"))
    send_refund(db, refused.public_id, clock=clock)
    assert _history(db, refused) == [(None, "submitted", "requested", "finance-1"),
                                     ("submitted", "failed", "refused_by_provider", "provider")]


EDGES = [(a, b) for a, b in itertools.product([None, *RefundStatus], RefundStatus) if (a, b) not in TRANSITIONS]


@pytest.mark.parametrize("current, target", EDGES, ids=[f"{a}->{b}" for a, b in EDGES])
def test_every_change_outside_the_table_is_refused_and_writes_nothing(db, clock, sandbox, current, target):
    refund = _request(db, clock, _paid(db, clock, sandbox))
    before = _history(db, refund)
    if current is None:
        refund = Refund(public_id="r-new", payment_id=refund.payment_id, amount=1, currency="VND", reason="x",
                        requested_by="finance-1", created_at=clock.now())
    else:
        refund.status = current.value
    with pytest.raises(InvalidRefundTransition) as refused:
        transition_refund(db, refund, target, actor="finance-9", clock=clock)
    assert refused.value.code == "invalid_transition"
    assert refund.status == (current.value if current else None)
    assert db.scalar(select(RefundEvent).where(RefundEvent.actor == "finance-9")) is None
    if current is not None:
        assert _history(db, refund) == before


def test_the_table_reaches_every_status_and_ends_in_the_final_ones():
    reached = {target for _, target in TRANSITIONS}
    assert reached == set(RefundStatus)
    assert {source for source, _ in TRANSITIONS} == {None, RefundStatus.AWAITING_APPROVAL, RefundStatus.SUBMITTED}
