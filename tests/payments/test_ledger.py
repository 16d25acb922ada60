"""The ledger balances, posts each external id once, never changes a row, and corrects by reversal."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.money import vnd
from payments import accounts, ledger
from payments.errors import LedgerError, LedgerImmutable, LedgerUnbalanced
from payments.ledger import credit, debit
from payments.models.ledger import LedgerPosting, LedgerTransaction
from tests.payments.helpers import count

STRIPE = accounts.provider_clearing("stripe")
BUDGET = accounts.budget_payable("HN-CA")
RETAINED = accounts.fee_retained("HN-CA", "PARKING")
SUBSIDY = accounts.subsidy_receivable("HN-NQ11-2024")


def _post(db, clock, external_id, legs, **extra):
    return ledger.post(db, source="test", external_id=external_id, kind="test", legs=legs, clock=clock, **extra)


def test_a_parking_fee_with_a_subsidy_splits_between_budget_and_agency(db, clock):
    # reconciliation.md §8: ₫50,000 fee, the citizen pays 30,000, a programme covers 20,000, 90 % retained.
    retained = accounts.retained_share(vnd(50_000), "phi", 9000)
    _post(db, clock, "parking-1", [debit(STRIPE, vnd(30_000)), debit(SUBSIDY, vnd(20_000)),
                                   credit(BUDGET, vnd(50_000) - retained), credit(RETAINED, retained)])
    assert ledger.balance(db, STRIPE.code) == vnd(30_000)
    assert ledger.balance(db, SUBSIDY.code) == vnd(20_000)
    assert ledger.balance(db, BUDGET.code) == vnd(-5_000)
    assert ledger.balance(db, RETAINED.code) == vnd(-45_000)
    assert sum(ledger.trial_balance(db).values()) == 0


def test_a_le_phi_is_remitted_in_full_and_rounding_never_loses_a_dong():
    assert accounts.retained_share(vnd(200_000), "le_phi", 0) == vnd(0)
    share = accounts.retained_share(vnd(8_333), "phi", 3333)
    assert share == vnd(2_777)  # 2,777.39 rounds half-up to whole dong; the budget gets the rest, 5,556


def test_replaying_the_same_external_id_posts_nothing(db, clock):
    first = _post(db, clock, "notification-7", [debit(STRIPE, vnd(100)), credit(BUDGET, vnd(100))])
    again = _post(db, clock, "notification-7", [debit(STRIPE, vnd(100)), credit(BUDGET, vnd(100))])
    assert first.created and not again.created
    assert again.transaction.id == first.transaction.id
    assert ledger.balance(db, STRIPE.code) == vnd(100)
    assert count(db, LedgerTransaction, LedgerTransaction.external_id == "notification-7") == 1


@pytest.mark.parametrize("legs, reason", [
    ([debit(STRIPE, vnd(100))], "at least two legs"),
    ([debit(STRIPE, vnd(100)), credit(BUDGET, vnd(99))], "differ"),
    ([debit(STRIPE, vnd(0)), credit(BUDGET, vnd(0))], "positive"),
    ([debit(STRIPE, vnd(-5)), credit(BUDGET, vnd(-5))], "positive"),
    ([debit(STRIPE, vnd(100)), debit(BUDGET, vnd(-100))], "positive"),
], ids=["one-leg", "unbalanced", "zero", "negative", "negative-debit"])
def test_an_invalid_transaction_is_refused_before_any_sql(db, clock, legs, reason):
    with pytest.raises(LedgerUnbalanced, match=reason):
        _post(db, clock, "bad", legs)
    assert count(db, LedgerTransaction) == 0


def test_an_account_keeps_its_kind_and_currency(db, clock):
    _post(db, clock, "a", [debit(STRIPE, vnd(1)), credit(BUDGET, vnd(1))])
    wrong_kind = accounts.Account(STRIPE.code, accounts.LIABILITY)
    with pytest.raises(LedgerError, match="is asset"):
        _post(db, clock, "b", [debit(wrong_kind, vnd(1)), credit(BUDGET, vnd(1))])


def test_a_reversal_cancels_the_original_once(db, clock):
    original = _post(db, clock, "capture", [debit(STRIPE, vnd(200_000)), credit(BUDGET, vnd(200_000))])
    first = ledger.reverse(db, original.transaction.id, source="test", kind="reversal", clock=clock)
    again = ledger.reverse(db, original.transaction.id, source="test", kind="reversal", clock=clock)
    assert first.created and not again.created
    assert first.transaction.reverses_id == original.transaction.id
    assert ledger.balance(db, STRIPE.code) == vnd(0) and ledger.balance(db, BUDGET.code) == vnd(0)
    with pytest.raises(LedgerError, match="itself a reversal"):
        ledger.reverse(db, first.transaction.id, source="test", kind="reversal", clock=clock)


def test_the_orm_refuses_to_update_or_delete_a_posting(db, clock):
    posted = _post(db, clock, "x", [debit(STRIPE, vnd(10)), credit(BUDGET, vnd(10))])
    posting = posted.transaction.postings[0]
    posting.amount = 11
    with pytest.raises(LedgerImmutable):
        db.flush()
    db.rollback()


def test_the_orm_refuses_to_delete_a_transaction(db, clock):
    posted = _post(db, clock, "y", [debit(STRIPE, vnd(10)), credit(BUDGET, vnd(10))])
    db.delete(posted.transaction)
    with pytest.raises(LedgerImmutable):
        db.flush()
    db.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_postings SET amount = amount + 1",
    "DELETE FROM ledger_postings",
    "UPDATE ledger_transactions SET kind = 'edited'",
    "DELETE FROM ledger_transactions",
])
def test_the_database_refuses_direct_update_and_delete(db, clock, statement):
    _post(db, clock, "z", [debit(STRIPE, vnd(10)), credit(BUDGET, vnd(10))])
    with pytest.raises(Exception, match="append-only"), db.begin_nested():
        db.execute(text(statement))
    assert ledger.balance(db, STRIPE.code) == vnd(10)


def _dates(clock):
    return {"today": clock.today_in_vietnam(), "now": clock.now()}


def _raw_unbalanced_transaction(session, clock):
    session.execute(text(
        "INSERT INTO ledger_accounts (id, code, kind, currency, created_at) "
        "VALUES (901, 'raw:a', 'asset', 'VND', :now), (902, 'raw:b', 'liability', 'VND', :now)"), {"now": clock.now()})
    session.execute(text(
        "INSERT INTO ledger_transactions (id, source, external_id, kind, description, effective_date, posted_at) "
        "VALUES (901, 'raw', 'raw-1', 'raw', '', :today, :now)"), _dates(clock))
    session.execute(text("INSERT INTO ledger_postings (transaction_id, account_id, side, amount, currency) "
                         "VALUES (901, 901, 'debit', 100, 'VND'), (901, 902, 'credit', 99, 'VND')"))


def test_postgresql_refuses_an_unbalanced_transaction_at_commit(postgres_only, committing, clock):
    with committing() as session:
        _raw_unbalanced_transaction(session, clock)
        with pytest.raises(Exception, match="unbalanced"):
            session.commit()
    with committing() as session:
        assert count(session, LedgerPosting) == 0


def test_postgresql_refuses_a_transaction_without_postings(postgres_only, committing, clock):
    with committing() as session:
        session.execute(text(
            "INSERT INTO ledger_transactions (source, external_id, kind, description, effective_date, posted_at) "
            "VALUES ('raw', 'empty', 'raw', '', :today, :now)"), _dates(clock))
        with pytest.raises(Exception, match="unbalanced"):
            session.commit()
