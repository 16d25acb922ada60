"""Signed-off days take no postings: refused when dated there, moved to the next open day when undated."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from core.clock import FixedClock
from core.errors import Conflict
from core.money import vnd
from payments import accounts, ledger, periods
from payments.errors import LedgerPeriodClosed
from payments.ledger import credit, debit
from payments.models.ledger import LedgerClosedDay, LedgerTransaction
from tests.payments.factories import make_payment
from tests.payments.helpers import count
from tests.payments.test_settlement import _pay

STRIPE = accounts.provider_clearing("stripe")
BUDGET = accounts.budget_payable("HN-CA")
TODAY = date(2026, 3, 2)  # the ``clock`` fixture's day in Hà Nội


def _post(db, clock, external_id, **extra):
    return ledger.post(db, source="test", external_id=external_id, kind="test", clock=clock,
                       legs=[debit(STRIPE, vnd(100)), credit(BUDGET, vnd(100))], **extra)


def _close(db, clock, first, last=None):
    return periods.close_days(db, first, last or first, closed_by="staff:9", clock=clock)


def test_an_undated_posting_on_a_signed_off_day_lands_in_the_next_open_day(db, clock):
    _close(db, clock, TODAY, TODAY + timedelta(days=1))
    posted = _post(db, clock, "late-ipn")
    assert posted.created and posted.transaction.effective_date == TODAY + timedelta(days=2)


def test_an_undated_posting_on_an_open_day_keeps_today(db, clock):
    _close(db, clock, TODAY - timedelta(days=1))
    assert _post(db, clock, "on-time").transaction.effective_date == TODAY


def test_a_posting_dated_in_a_signed_off_day_is_refused_and_writes_nothing(db, clock):
    _close(db, clock, TODAY - timedelta(days=3), TODAY - timedelta(days=1))
    with pytest.raises(LedgerPeriodClosed) as refused:
        _post(db, clock, "backdated", effective_date=TODAY - timedelta(days=2))
    assert refused.value.code == "ledger_period_closed"
    assert refused.value.details == {"day": "2026-02-28", "next_open_day": "2026-03-02"}
    assert count(db, LedgerTransaction) == 0


def test_a_dated_posting_may_ask_for_the_next_open_day_instead(db, clock):
    _close(db, clock, TODAY - timedelta(days=3), TODAY - timedelta(days=1))
    posted = _post(db, clock, "bank-line", effective_date=TODAY - timedelta(days=2), if_closed=ledger.NEXT_OPEN_DAY)
    assert posted.transaction.effective_date == TODAY


def test_replaying_a_posting_after_its_day_closed_returns_it_instead_of_refusing(db, clock):
    first = _post(db, clock, "bank-line", effective_date=TODAY - timedelta(days=1))
    _close(db, clock, TODAY - timedelta(days=1))
    again = _post(db, clock, "bank-line", effective_date=TODAY - timedelta(days=1))
    assert not again.created and again.transaction.id == first.transaction.id


def test_a_correction_lands_in_the_next_open_day_and_names_the_original(db, clock):
    original = _post(db, clock, "capture")
    _close(db, clock, TODAY)
    legs = [debit(BUDGET, vnd(30)), credit(STRIPE, vnd(30))]
    fixed = ledger.correct(db, original.transaction.id, legs=legs, source="test", kind="correction", clock=clock)
    again = ledger.correct(db, original.transaction.id, legs=legs, source="test", kind="correction", clock=clock)
    assert fixed.created and not again.created
    assert fixed.transaction.corrects_id == original.transaction.id
    assert fixed.transaction.effective_date == TODAY + timedelta(days=1)
    assert original.transaction.effective_date == TODAY  # the signed-off day is untouched
    assert ledger.balance(db, STRIPE.code) == vnd(70)


def test_a_reversal_after_sign_off_lands_in_the_next_open_day(db, clock):
    original = _post(db, clock, "capture")
    _close(db, clock, TODAY)
    reversal = ledger.reverse(db, original.transaction.id, source="test", kind="reversal", clock=clock)
    assert reversal.transaction.reverses_id == original.transaction.id
    assert reversal.transaction.effective_date == TODAY + timedelta(days=1)


def test_a_citizen_payment_settling_after_its_day_was_signed_off_still_succeeds(db, clock, sandbox):
    payment = make_payment(db, clock, fee_kind="le_phi")
    _close(db, clock, TODAY)
    _pay(db, clock, payment)
    assert payment.status == "succeeded"
    (posted,) = ledger.transactions_for_payment(db, payment.id)
    assert posted.effective_date == TODAY + timedelta(days=1)
    assert ledger.balance(db, accounts.provider_clearing("sandbox").code) == vnd(200_000)


def _raw_posting(session, day: date) -> None:
    now = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    stripe = ledger.account_for(session, STRIPE, "VND", FixedClock(now))
    budget = ledger.account_for(session, BUDGET, "VND", FixedClock(now))
    session.execute(text("INSERT INTO ledger_transactions (id, source, external_id, kind, description, effective_date,"
                         " posted_at) VALUES (7001, 'raw', 'raw-1', 'raw', '', :day, :now)"),
                    {"day": day, "now": now.replace(tzinfo=None)})
    session.execute(text("INSERT INTO ledger_postings (transaction_id, account_id, side, amount, currency) "
                         "VALUES (7001, :a, 'debit', 100, 'VND'), (7001, :b, 'credit', 100, 'VND')"),
                    {"a": stripe.id, "b": budget.id})


def test_the_database_refuses_raw_postings_into_a_signed_off_day(db, clock):
    _close(db, clock, TODAY - timedelta(days=1))
    with pytest.raises(Exception, match="ledger period closed"), db.begin_nested():
        _raw_posting(db, TODAY - timedelta(days=1))
    assert count(db, LedgerTransaction) == 0


def test_the_database_refuses_raw_postings_added_to_a_transaction_of_a_signed_off_day(db, clock):
    original = _post(db, clock, "capture")
    _close(db, clock, TODAY)
    with pytest.raises(Exception, match="ledger period closed"), db.begin_nested():
        db.execute(text("INSERT INTO ledger_postings (transaction_id, account_id, side, amount, currency) "
                        "SELECT :txn, account_id, side, amount, currency FROM ledger_postings "
                        "WHERE transaction_id = :txn"),
                   {"txn": original.transaction.id})


def test_the_database_accepts_raw_postings_into_an_open_day(db, clock):
    _close(db, clock, TODAY - timedelta(days=1))
    _raw_posting(db, TODAY)
    assert ledger.balance(db, STRIPE.code) == vnd(100)


@pytest.mark.parametrize("statement", ["DELETE FROM ledger_closed_days",
                                       "UPDATE ledger_closed_days SET day = '2026-01-01'",
                                       "UPDATE ledger_closed_days SET reopens_on = day + 1"])
def test_postgresql_never_reopens_a_signed_off_day(postgres_only, db, clock, statement):
    _close(db, clock, TODAY - timedelta(days=5), TODAY - timedelta(days=1))
    with pytest.raises(Exception, match="stays closed"), db.begin_nested():
        db.execute(text(statement))
    assert periods.is_closed(db, TODAY - timedelta(days=3))


def test_closing_overlapping_periods_keeps_every_day_once(db, clock):
    assert _close(db, clock, TODAY - timedelta(days=5), TODAY - timedelta(days=3)) == 3
    assert _close(db, clock, TODAY - timedelta(days=4), TODAY - timedelta(days=1)) == 2
    assert periods.closed_days(db, TODAY - timedelta(days=9), TODAY) == [TODAY - timedelta(days=d)
                                                                        for d in range(5, 0, -1)]


FIRST = date(2026, 1, 1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 4)), min_size=1, max_size=6))
def test_every_closed_day_reopens_on_the_first_open_day_after_it(db, clock, closings):
    with db.begin_nested() as savepoint:
        closed: set[date] = set()
        for offset, length in closings:
            first = FIRST + timedelta(days=offset)
            _close(db, clock, first, first + timedelta(days=length))
            closed |= {first + timedelta(days=d) for d in range(length + 1)}
        for row in db.scalars(select(LedgerClosedDay)):
            expected = row.day + timedelta(days=1)
            while expected in closed:
                expected += timedelta(days=1)
            assert row.reopens_on == expected
        assert {row.day for row in db.scalars(select(LedgerClosedDay))} == closed
        savepoint.rollback()


def test_a_sign_off_waits_for_postings_in_flight_and_gives_up_if_they_last(postgres_only, committing, clock,
                                                                          monkeypatch):
    monkeypatch.setattr(periods, "CLOSE_LOCK_TIMEOUT", "200ms")
    with committing() as posting, committing() as closing:
        _post(posting, clock, "in-flight")  # not committed yet
        with pytest.raises(Conflict) as busy:
            _close(closing, clock, TODAY)
        assert busy.value.code == "ledger_busy"
        closing.rollback()
        posting.commit()
        _close(closing, clock, TODAY)
        closing.commit()
    with committing() as session:
        (posted,) = session.scalars(select(LedgerTransaction)).all()
        assert posted.effective_date == TODAY and periods.is_closed(session, TODAY)


def test_a_posting_that_waited_for_a_sign_off_lands_in_the_next_open_day(postgres_only, committing, clock):
    outcome: dict[str, object] = {}

    def settle() -> None:
        with committing() as session:
            try:
                outcome["day"] = _post(session, clock, "during-sign-off").transaction.effective_date
                session.commit()
            except Exception as error:  # reported by the assertion below
                outcome["error"] = error

    with committing() as closing:
        _close(closing, clock, TODAY)  # holds the ledger until it commits
        waiting = threading.Thread(target=settle)
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive()  # the posting waits for the sign-off
        closing.commit()
    waiting.join(10)
    assert outcome == {"day": TODAY + timedelta(days=1)}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(closings=st.lists(st.tuples(st.integers(0, 15), st.integers(0, 3)), max_size=5),
       todays=st.lists(st.integers(0, 20), min_size=1, max_size=5))
def test_an_undated_posting_lands_on_the_first_open_day_on_or_after_today(db, closings, todays):
    with db.begin_nested() as savepoint:
        closer = FixedClock(datetime(2026, 1, 1, 3, 0, tzinfo=UTC))
        closed: set[date] = set()
        for offset, length in closings:
            first = FIRST + timedelta(days=offset)
            _close(db, closer, first, first + timedelta(days=length))
            closed |= {first + timedelta(days=d) for d in range(length + 1)}
        for n, offset in enumerate(todays):
            today = FIRST + timedelta(days=offset)
            at = FixedClock(datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=3))
            expected = today
            while expected in closed:
                expected += timedelta(days=1)
            assert _post(db, at, f"p{n}").transaction.effective_date == expected
        savepoint.rollback()


def test_a_run_whose_period_is_not_over_cannot_be_signed_off(db):
    from datetime import UTC, date, datetime

    from core.clock import FixedClock
    from core.errors import Conflict
    from payments.reconciliation.runs import ReconRun
    from payments.reconciliation.service import sign_off

    clock = FixedClock(datetime(2026, 12, 9, 3, tzinfo=UTC))  # 10:00 on 9 December in Hà Nội
    run = ReconRun(scope="bank:1", period_start=date(2026, 12, 3), period_end=date(2026, 12, 9), rule_version="t",
                   status="completed", started_by="t", started_at=clock.now())
    db.add(run)
    db.flush()
    with pytest.raises(Conflict) as refused:
        sign_off(db, run.id, approver="staff:2", clock=clock)
    assert refused.value.code == "period_not_over" and run.status == "completed"


def test_a_run_whose_period_was_signed_off_while_it_worked_is_refused_at_its_end(db):
    from datetime import UTC, date, datetime

    from core.clock import FixedClock
    from core.errors import Conflict
    from payments.reconciliation.runs import ReconRun
    from payments.reconciliation.service import ensure_still_open, open_run

    clock = FixedClock(datetime(2026, 12, 9, 3, tzinfo=UTC))
    working = open_run(db, "bank:1", date(2026, 12, 3), date(2026, 12, 4), "staff:1", clock)
    db.add(ReconRun(scope="bank:1", period_start=date(2026, 12, 4), period_end=date(2026, 12, 4), rule_version="t",
                    status="signed_off", started_by="t", started_at=clock.now()))  # signed off meanwhile
    db.flush()
    with pytest.raises(Conflict) as refused:
        ensure_still_open(db, working)
    assert refused.value.code == "period_signed_off"
