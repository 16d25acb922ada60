"""Over random histories of collections, subsidies, refunds, duplicates and payouts, every cut of the report, in
every spreadsheet format, has the same grand total, equal to a model of what happened and to the ledger's movement.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from core.clock import to_vietnam
from payments.reporting.collections import CUTS, collections, collections_table
from payments.reporting.csv_export import to_csv
from payments.reporting.movements import Totals
from payments.reporting.subsidies import programme_costs
from payments.reporting.xlsx_export import to_xlsx
from tests.payments.reporting.flows import pay, pay_twice, refund, settle_free
from tests.payments.reporting.support import import_payout_report, ledger_movement

#: 22:00 in Hà Nội on 1 March 2026: the first steps already cross a Vietnamese midnight.
START = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
FIRST_DAY = date(2026, 3, 1)

minutes = st.integers(min_value=0, max_value=900)
collect = st.tuples(st.just("collect"), minutes, st.integers(1, 400).map(lambda n: n * 1_000),
                    st.sampled_from([0, 0, 25, 100]))
refund_op = st.tuples(st.just("refund"), minutes, st.integers(0, 99), st.integers(1, 100), st.booleans())
duplicate = st.tuples(st.just("duplicate"), minutes, st.integers(1, 300).map(lambda n: n * 1_000))
payout = st.tuples(st.just("payout"), st.integers(0, 99), st.sampled_from(["po_1", "po_2"]))
histories = st.lists(st.one_of(collect, collect, refund_op, duplicate, payout), min_size=1, max_size=8)


class History:
    """Replays operations through the real services and keeps a per-day model of what the report must say."""

    def __init__(self, db, clock, sandbox):
        self.db, self.clock, self.sandbox = db, clock, sandbox
        self.days: dict[date, Totals] = defaultdict(Totals)
        self.payments: list = []

    def _book(self, **amounts: int) -> None:
        day = to_vietnam(self.clock.now()).date()
        self.days[day] = self.days[day] + Totals(**amounts)

    def collect(self, step: int, base: int, subsidy_percent: int) -> None:
        self.clock.advance(minutes=step)
        subsidy = base * subsidy_percent // 100
        if subsidy == base:
            settle_free(self.db, self.clock, base=base)
        else:
            self.payments.append(pay(self.db, self.clock, self.sandbox, due=base - subsidy, base=base))
        self._book(count=1, collected=base, subsidy=subsidy, paid=base - subsidy)

    def refund(self, step: int, index: int, percent: int, refused: bool) -> None:
        live = [p for p in self.payments if p.status == "succeeded" and p.amount > p.refunded_amount]
        if not live:
            return
        self.clock.advance(minutes=step)
        payment = live[index % len(live)]
        amount = max(1, (payment.amount - payment.refunded_amount) * percent // 100)
        refund(self.db, self.clock, self.sandbox, payment, amount, refused=refused)
        if not refused:  # a refused refund is booked and reversed on the same day
            self._book(refunds=amount)

    def duplicate(self, step: int, amount: int) -> None:
        self.clock.advance(minutes=step)
        paid, twice = pay_twice(self.db, self.clock, self.sandbox, amount=amount)
        self.payments.append(paid)
        self._book(count=1, collected=amount, paid=amount, duplicates=amount)

    def payout(self, index: int, payout_id: str) -> None:
        if self.payments:
            payment = self.payments[index % len(self.payments)]
            import_payout_report(self.db, [(payment, payout_id)], name=f"{payment.public_id}-{payout_id}.csv")

    def expected(self, first: date, last: date) -> Totals:
        return sum((totals for day, totals in self.days.items() if first <= day <= last), Totals())


def _spreadsheet_totals(table) -> tuple[list[int], list[int]]:
    csv_row = list(csv.reader(io.StringIO(to_csv(table).decode("utf-8-sig"))))[-1]
    xlsx_row = list(load_workbook(io.BytesIO(to_xlsx(table))).active.iter_rows(values_only=True))[-1]
    return [int(cell) for cell in csv_row[1:]], list(xlsx_row[1:])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(history=histories, period=st.tuples(st.integers(0, 4), st.integers(0, 4)))
def test_all_cuts_and_formats_agree_with_each_other_the_model_and_the_ledger(db, clock, sandbox, history, period):
    savepoint = db.begin_nested()
    try:
        clock.set(START)
        replay = History(db, clock, sandbox)
        for name, *arguments in history:
            getattr(replay, name)(*arguments)
        first, last = (FIRST_DAY + timedelta(days=n) for n in sorted(period))
        data = collections(db, first, last)
        totals = data.totals
        assert totals == replay.expected(first, last)
        assert totals.collected == totals.subsidy + totals.paid
        movement = ledger_movement(db, first, last)
        assert -movement["collection"] == totals.net
        assert movement["subsidy_receivable"] == totals.subsidy
        assert movement["clearing debits"] == totals.paid + totals.duplicates
        assert programme_costs(data).amount == totals.subsidy
        expected_row = [totals.count, totals.collected, totals.subsidy, totals.paid, totals.refunds, totals.net,
                        totals.duplicates]
        for cut in CUTS:
            assert sum((line.totals for line in data.cut(cut)), Totals()) == totals, cut
            in_csv, in_xlsx = _spreadsheet_totals(collections_table(data, cut, generated_at=START))
            assert in_csv == in_xlsx == expected_row, cut
    finally:
        savepoint.rollback()
