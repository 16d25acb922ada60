"""Subsidy cost per programme from the paid bills' subsidy lines, by Vietnamese day, as a report table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.clock import FixedClock
from payments.reporting.subsidies import ProgrammeCost, subsidy_costs, subsidy_table, sum_lines
from tests.admin.finance.settled import free_bill, paid_bill, register_sandbox
from tests.payments.factories import HANOI_PROGRAMME

DAY = date(2026, 11, 20)


def test_lines_are_summed_per_programme_and_a_bill_counts_once_per_programme():
    lines = [[{"programme": "A", "amount": 50_000}],
             [{"programme": "A", "amount": 10}, {"programme": "A", "amount": 5}],
             [{"programme": "B", "amount": 40_000}, {"programme": "A", "amount": 60_000}], [], None,
             [{"programme": "C", "amount": 0}]]
    assert sum_lines(lines) == (ProgrammeCost("A", 3, 110_015), ProgrammeCost("B", 1, 40_000))


def test_paid_bills_of_the_period_count_by_the_day_they_were_paid(db):
    # 23:30 in Hà Nội on the 20th is 16:30 UTC: still the 20th; 00:30 on the 21st is the next day.
    evening = FixedClock(datetime(2026, 11, 20, 16, 30, tzinfo=UTC))
    with register_sandbox(evening):
        paid_bill(db, evening, due=150_000, base=200_000)
        free_bill(db, evening, base=120_000)
        evening.advance(hours=1)
        paid_bill(db, evening, due=100_000, base=200_000)  # the 21st
    costs = subsidy_costs(db, DAY, DAY)
    assert costs.by_programme == (ProgrammeCost(HANOI_PROGRAMME, 2, 170_000),) and costs.amount == 170_000
    assert subsidy_costs(db, DAY, DAY + timedelta(days=1)).amount == 270_000
    table = subsidy_table(costs, generated_at=evening.now())
    assert table.totals == {"bills": 2, "amount": 170_000} and table.rows[0]["programme"] == HANOI_PROGRAMME
