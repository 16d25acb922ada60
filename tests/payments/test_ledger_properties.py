"""Properties of the ledger under random sequences of postings, replays and reversals."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from core.money import vnd
from payments import accounts, ledger
from payments.ledger import credit, debit
from payments.models.ledger import LedgerTransaction
from tests.payments.helpers import count

ACCOUNTS = [accounts.provider_clearing("sandbox"), accounts.subsidy_receivable("P1"),
            accounts.budget_payable("A1"), accounts.fee_retained("A1", "S1"), accounts.refunds_payable()]
amounts = st.integers(min_value=1, max_value=10_000_000)


def test_balances_always_sum_to_zero_and_match_a_model(db, clock):
    class LedgerMachine(RuleBasedStateMachine):
        """Random postings, replays and reversals; the trial balance always equals a plain-dict model."""

        def __init__(self):
            super().__init__()
            self.savepoint = db.begin_nested()
            self.model: dict[str, int] = {}
            self.posted: list[tuple[str, int, list]] = []
            self.reversed: set[int] = set()
            self.serial = 0

        @rule(parts=st.lists(st.tuples(st.sampled_from(ACCOUNTS), amounts), min_size=1, max_size=4),
              target_account=st.sampled_from(ACCOUNTS))
        def post_a_balanced_transaction(self, parts, target_account):
            self.serial += 1
            legs = [debit(account, vnd(amount)) for account, amount in parts]
            legs.append(credit(target_account, vnd(sum(amount for _, amount in parts))))
            posted = ledger.post(db, source="prop", external_id=f"e{self.serial}", kind="k", legs=legs, clock=clock)
            self.posted.append((f"e{self.serial}", posted.transaction.id, legs))
            self._apply(legs, +1)

        @precondition(lambda self: self.posted)
        @rule(index=st.integers(min_value=0))
        def replay_an_earlier_posting(self, index):
            external_id, transaction_id, legs = self.posted[index % len(self.posted)]
            again = ledger.post(db, source="prop", external_id=external_id, kind="k", legs=legs, clock=clock)
            assert not again.created and again.transaction.id == transaction_id

        @precondition(lambda self: self.posted)
        @rule(index=st.integers(min_value=0))
        def reverse_an_earlier_posting(self, index):
            _, transaction_id, legs = self.posted[index % len(self.posted)]
            result = ledger.reverse(db, transaction_id, source="prop", kind="reversal", clock=clock)
            assert result.created == (transaction_id not in self.reversed)
            if result.created:
                self.reversed.add(transaction_id)
                self._apply(legs, -1)

        def _apply(self, legs, sign):
            for leg in legs:
                signed = leg.amount.amount if leg.side == ledger.DEBIT else -leg.amount.amount
                self.model[leg.account.code] = self.model.get(leg.account.code, 0) + sign * signed

        @invariant()
        def trial_balance_sums_to_zero_and_matches_the_model(self):
            balances = ledger.trial_balance(db)
            assert sum(balances.values()) == 0
            assert {k: v for k, v in balances.items()} == {k: v for k, v in self.model.items() if k in balances}
            assert all(v == 0 for k, v in self.model.items() if k not in balances)

        def teardown(self):
            self.savepoint.rollback()

    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=25, stateful_step_count=12, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))


def test_ten_concurrent_copies_of_one_posting_post_once(postgres_only, committing, clock):
    legs = [debit(ACCOUNTS[0], vnd(200_000)), credit(ACCOUNTS[2], vnd(200_000))]

    def deliver(_):
        with committing() as session, session.begin():
            return ledger.post(session, source="webhook", external_id="evt_1", kind="k", legs=legs,
                               clock=clock).created

    with ThreadPoolExecutor(10) as pool:
        created = list(pool.map(deliver, range(10)))
    assert created.count(True) == 1
    with committing() as session:
        assert count(session, LedgerTransaction) == 1
        assert ledger.balance(session, ACCOUNTS[0].code) == vnd(200_000)
