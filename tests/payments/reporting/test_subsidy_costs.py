"""Subsidy cost per programme from the ledger's subsidy receivables, by Vietnamese day, as a report table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.clock import FixedClock
from core.money import vnd
from payments.bills import Quote, SubsidyLine
from payments.reporting.subsidies import ProgrammeCost, subsidy_costs, subsidy_table
from tests.admin.finance.settled import free_bill, paid_bill, register_sandbox
from tests.payments.factories import HANOI_PROGRAMME
from tests.payments.reporting.support import ledger_movement

DAY = date(2026, 11, 20)


def test_collected_bills_count_by_their_effective_day_and_once_per_programme(db):
    # 23:30 in Hà Nội on the 20th is 16:30 UTC: still the 20th; 00:30 on the 21st is the next day.
    evening = FixedClock(datetime(2026, 11, 20, 16, 30, tzinfo=UTC))
    with register_sandbox(evening):
        paid_bill(db, evening, due=150_000, base=200_000)
        free_bill(db, evening, base=120_000)
        two = (SubsidyLine(HANOI_PROGRAMME, vnd(60_000)), SubsidyLine("B", vnd(40_000)))
        paid_bill(db, evening, quote=Quote(amount_due=vnd(100_000), base_amount=vnd(200_000), subsidies=two,
                                           explanation={}, rule_set_hash="r" * 64))
        evening.advance(hours=1)
        paid_bill(db, evening, due=100_000, base=200_000)  # the 21st
    costs = subsidy_costs(db, DAY, DAY)
    assert costs.by_programme == (ProgrammeCost("B", 1, 40_000), ProgrammeCost(HANOI_PROGRAMME, 3, 230_000))
    assert costs.amount == 270_000 == ledger_movement(db, DAY, DAY)["subsidy_receivable"]
    assert subsidy_costs(db, DAY, DAY + timedelta(days=1)).amount == 370_000
    table = subsidy_table(costs, generated_at=evening.now())
    assert table.totals == {"bills": 4, "amount": 270_000} and table.rows[1]["programme"] == HANOI_PROGRAMME
