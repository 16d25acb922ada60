"""The payment transition table: applied, ignored (late or duplicate) and invalid edges."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.money import vnd
from payments import accounts, ledger
from payments.confirmation import apply_report
from payments.errors import InvalidPaymentTransition
from payments.models.billing import LIVE_PAYMENT_STATUSES, PAYMENT_STATUSES, PaymentEvent
from payments.providers.base import ProviderStatus, StatusReport
from payments.states import FINAL, TRANSITIONS, Outcome, PaymentStatus, classify, transition
from tests.payments.factories import make_payment, open_sandbox_payment
from tests.payments.helpers import count

S = PaymentStatus

APPLIED = [
    (S.CREATED, S.STARTED), (S.CREATED, S.SUBMITTED), (S.STARTED, S.SUBMITTED), (S.SUBMITTED, S.UNKNOWN),
    (S.SUBMITTED, S.SUCCEEDED), (S.UNKNOWN, S.SUCCEEDED), (S.STARTED, S.SUCCEEDED),
    (S.SUBMITTED, S.DECLINED), (S.UNKNOWN, S.DECLINED), (S.SUBMITTED, S.ERROR), (S.STARTED, S.CANCELLED),
    (S.CREATED, S.EXPIRED), (S.SUBMITTED, S.EXPIRED), (S.UNKNOWN, S.EXPIRED),
    (S.EXPIRED, S.SUCCEEDED), (S.DECLINED, S.SUCCEEDED), (S.SUBMITTED, S.DUPLICATE), (S.EXPIRED, S.DUPLICATE),
]
IGNORED = [
    (S.SUCCEEDED, S.SUBMITTED), (S.SUCCEEDED, S.DECLINED), (S.SUCCEEDED, S.EXPIRED), (S.SUCCEEDED, S.SUCCEEDED),
    (S.DECLINED, S.EXPIRED), (S.EXPIRED, S.CANCELLED), (S.DUPLICATE, S.SUCCEEDED), (S.SUBMITTED, S.STARTED),
    (S.UNKNOWN, S.SUBMITTED), (S.SUBMITTED, S.SUBMITTED), (S.ERROR, S.DECLINED),
]
INVALID = [(S.CREATED, S.UNKNOWN), (S.STARTED, S.UNKNOWN)]


@pytest.mark.parametrize("current, target", APPLIED, ids=lambda s: s.value)
def test_an_edge_in_the_table_is_applied(current, target):
    assert classify(current, target) is Outcome.APPLIED


@pytest.mark.parametrize("current, target", IGNORED, ids=lambda s: s.value)
def test_a_late_or_duplicate_report_is_ignored(current, target):
    assert classify(current, target) is Outcome.IGNORED


@pytest.mark.parametrize("current, target", INVALID, ids=lambda s: s.value)
def test_an_impossible_edge_is_invalid(current, target):
    with pytest.raises(InvalidPaymentTransition):
        classify(current, target)


def test_every_pair_of_states_is_applied_ignored_or_invalid_and_success_is_absorbing():
    for current, target in itertools.product(PaymentStatus, repeat=2):
        try:
            outcome = classify(current, target)
        except InvalidPaymentTransition:
            assert current not in FINAL
            continue
        if current in (S.SUCCEEDED, S.DUPLICATE):
            assert outcome is Outcome.IGNORED
    assert all(current != target for current, target in TRANSITIONS)


def test_the_database_knows_the_same_statuses():
    assert set(PAYMENT_STATUSES) == {s.value for s in PaymentStatus}
    assert set(LIVE_PAYMENT_STATUSES) == {s.value for s in PaymentStatus if s not in FINAL}


def test_a_transition_writes_the_status_and_appends_one_event(db, clock, sandbox):
    payment = make_payment(db, clock)
    assert transition(db, payment, S.SUBMITTED, cause="test", clock=clock) is Outcome.APPLIED
    assert transition(db, payment, S.SUBMITTED, cause="test", clock=clock) is Outcome.IGNORED
    assert payment.status == "submitted"
    events = db.query(PaymentEvent).filter_by(payment_id=payment.id).order_by(PaymentEvent.id).all()
    assert [(e.from_status, e.to_status, e.event) for e in events] == [
        (None, "created", "created"), ("created", "submitted", "submitted")]


def test_an_invalid_transition_changes_nothing(db, clock, sandbox):
    payment = make_payment(db, clock)
    with pytest.raises(InvalidPaymentTransition):
        transition(db, payment, S.UNKNOWN, cause="test", clock=clock)
    assert payment.status == "created"
    assert count(db, PaymentEvent, PaymentEvent.payment_id == payment.id) == 1


def test_a_final_state_records_when_and_why(db, clock, sandbox):
    payment = make_payment(db, clock)
    transition(db, payment, S.SUBMITTED, cause="test", clock=clock)
    transition(db, payment, S.DECLINED, cause="test", clock=clock, failure_code="card_declined")
    assert payment.finished_at == clock.now() and payment.failure_code == "card_declined"


#: What a provider may truthfully send about one session, in the order it happened: some pending
#: reports, then its one final outcome; or failed attempts followed by a success (Checkout retries).
provider_histories = st.one_of(
    st.tuples(st.lists(st.sampled_from([S.STARTED, S.SUBMITTED]), max_size=3),
              st.sampled_from([S.SUCCEEDED, S.DECLINED, S.CANCELLED, S.EXPIRED, S.ERROR]))
    .map(lambda parts: [*parts[0], parts[1]]),
    st.lists(st.sampled_from([S.DECLINED, S.ERROR, S.SUBMITTED]), min_size=1, max_size=3)
    .map(lambda attempts: [*attempts, S.SUCCEEDED]),
)


@settings(max_examples=150, deadline=None)
@given(history=provider_histories, data=st.data())
def test_every_arrival_order_ends_in_the_state_the_provider_reports(history, data):
    arrival = data.draw(st.permutations(history))
    status = S.SUBMITTED
    for reported in arrival:
        if classify(status, reported) is Outcome.APPLIED:
            status = reported
    assert status == history[-1]


#: The provider's status for each payment status a history mentions.
AS_REPORTED = {S.STARTED: ProviderStatus.PENDING, S.SUBMITTED: ProviderStatus.PENDING,
               S.SUCCEEDED: ProviderStatus.SUCCEEDED, S.DECLINED: ProviderStatus.DECLINED,
               S.CANCELLED: ProviderStatus.CANCELLED, S.EXPIRED: ProviderStatus.EXPIRED, S.ERROR: ProviderStatus.ERROR}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=provider_histories, data=st.data())
def test_every_arrival_order_of_reports_ends_in_the_provider_state_and_posts_once(db, clock, sandbox, history, data):
    arrival = data.draw(st.permutations(history))
    with db.begin_nested() as savepoint:
        payment = open_sandbox_payment(db, clock, sandbox)
        for reported in arrival:
            report = StatusReport(payment.provider_session_id, AS_REPORTED[reported], payment.public_id,
                                  vnd(payment.amount))
            apply_report(db, payment.public_id, report, cause="notification", clock=clock)
        db.refresh(payment)
        assert payment.status == history[-1].value
        captured = vnd(200_000) if history[-1] is S.SUCCEEDED else vnd(0)
        assert ledger.balance(db, accounts.provider_clearing("sandbox").code) == captured
        savepoint.rollback()
