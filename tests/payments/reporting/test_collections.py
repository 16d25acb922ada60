"""Collections cut from the ledger: what each column means, which day a movement belongs to, and payouts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from payments.reporting.collections import CUTS, NO_CHANNEL, NOT_PAID_OUT, collections, collections_table
from payments.reporting.movements import Totals
from payments.reporting.subsidies import ProgrammeCost, programme_costs, subsidy_table
from tests.payments.factories import HANOI_PROGRAMME
from tests.payments.reporting.flows import pay, pay_twice, refund, settle_free
from tests.payments.reporting.support import import_payout_report, ledger_movement

DAY = date(2026, 3, 2)  # the clock fixture's day in Hà Nội


def _worked_example(db, clock, sandbox):
    """A subsidised payment, a free bill, a refund paid out, a refund refused, a duplicate capture."""
    subsidised = pay(db, clock, sandbox, due=150_000, base=200_000)
    settle_free(db, clock, base=120_000, service_code="TLHT")
    refunded = pay(db, clock, sandbox, agency_code="HCM-STP")
    refund(db, clock, sandbox, refunded, 50_000)
    refused = pay(db, clock, sandbox)
    refund(db, clock, sandbox, refused, 30_000, refused=True)
    pay_twice(db, clock, sandbox, amount=80_000)
    return subsidised, refunded


def test_each_column_is_a_movement_of_the_ledger(db, clock, sandbox):
    _worked_example(db, clock, sandbox)
    totals = collections(db, DAY, DAY).totals
    assert totals == Totals(count=5, collected=800_000, subsidy=170_000, paid=630_000, refunds=50_000,
                            duplicates=80_000)
    assert totals.net == 750_000 and totals.collected == totals.subsidy + totals.paid
    movement = ledger_movement(db, DAY, DAY)
    assert -movement["collection"] == totals.net  # credits less debits on budget payable and retained fees
    assert movement["subsidy_receivable"] == totals.subsidy
    assert movement["clearing debits"] == totals.paid + totals.duplicates


def test_every_cut_adds_up_to_the_same_grand_total(db, clock, sandbox):
    _worked_example(db, clock, sandbox)
    data = collections(db, DAY, DAY)
    for cut in CUTS:
        lines = data.cut(cut)
        assert sum((line.totals for line in lines), Totals()) == data.totals, cut
        assert collections_table(data, cut, generated_at=clock.now()).totals["net"] == 750_000
    service = {line.key: line.totals for line in data.cut("service")}
    assert service["TLHT"] == Totals(count=1, collected=120_000, subsidy=120_000)
    agency = {line.key: line.totals for line in data.cut("agency")}
    assert agency["HCM-STP"] == Totals(count=1, collected=200_000, paid=200_000, refunds=50_000)
    channel = {line.key: line.totals for line in data.cut("provider")}
    assert set(channel) == {"sandbox", None} and channel[None].collected == 120_000
    assert programme_costs(data).by_programme == (ProgrammeCost(HANOI_PROGRAMME, 2, 170_000),)


def test_a_movement_counts_on_its_effective_day_in_hanoi(db, clock, sandbox):
    clock.set(datetime(2026, 3, 2, 16, 30, tzinfo=UTC))  # 23:30 in Hà Nội, still the 2nd
    late = pay(db, clock, sandbox)
    clock.advance(hours=1)  # 00:30 on the 3rd
    pay(db, clock, sandbox, due=100_000, base=200_000)
    refund(db, clock, sandbox, late, 40_000)  # booked on the 3rd, not on the day it was collected
    first, second = collections(db, DAY, DAY), collections(db, DAY + timedelta(days=1), DAY + timedelta(days=1))
    assert first.totals == Totals(count=1, collected=200_000, paid=200_000)
    assert second.totals == Totals(count=1, collected=200_000, subsidy=100_000, paid=100_000, refunds=40_000)
    both = collections(db, DAY - timedelta(days=1), DAY + timedelta(days=1))
    assert [(line.key, line.totals.net) for line in both.cut("day")] == [
        (DAY - timedelta(days=1), 0), (DAY, 200_000), (DAY + timedelta(days=1), 160_000)]


def test_payments_are_cut_by_the_payout_their_charge_was_settled_in(db, clock, sandbox):
    subsidised, refunded = _worked_example(db, clock, sandbox)
    waiting = pay(db, clock, sandbox, due=70_000, base=70_000)
    # A payout report places two charges; a balance report lists the third without a payout yet.
    import_payout_report(db, [(subsidised, "po_A"), (refunded, "po_A")])
    import_payout_report(db, [(waiting, "")], name="balance.csv")
    lines = {line.key: line.totals for line in collections(db, DAY, DAY).cut("payout")}
    assert list(lines) == ["po_A", NOT_PAID_OUT, None]
    assert lines["po_A"] == Totals(count=2, collected=400_000, subsidy=50_000, paid=350_000, refunds=50_000)
    assert lines[None] == Totals(count=1, collected=120_000, subsidy=120_000)
    assert lines[NOT_PAID_OUT] == Totals(count=3, collected=350_000, paid=350_000, duplicates=80_000)


def test_report_tables_name_the_lines_without_a_channel_or_payout(db, clock, sandbox):
    _worked_example(db, clock, sandbox)
    data = collections(db, DAY, DAY)
    table = collections_table(data, "payout", generated_at=clock.now())
    assert [row["key"] for row in table.rows] == [NOT_PAID_OUT, NO_CHANNEL]
    assert [c.key for c in table.columns] == ["key", "count", "collected", "subsidy", "paid", "refunds", "net",
                                              "duplicates"]
    assert table.totals == {"count": 5, "collected": 800_000, "subsidy": 170_000, "paid": 630_000,
                            "refunds": 50_000, "net": 750_000, "duplicates": 80_000}
    assert table.period == "02/03/2026 – 02/03/2026" and table.title.startswith("Tổng hợp thu")
    programmes = subsidy_table(programme_costs(data), generated_at=clock.now())
    assert programmes.totals == {"bills": 2, "amount": table.totals["subsidy"]}


def test_movements_outside_the_period_or_of_other_kinds_are_left_out(db, clock, sandbox):
    payment = pay(db, clock, sandbox)
    refund(db, clock, sandbox, payment, 200_000)  # refund_paid moves clearing, not collections
    assert collections(db, DAY + timedelta(days=1), DAY + timedelta(days=30)).totals == Totals()
    assert collections(db, DAY, DAY).totals == Totals(count=1, collected=200_000, paid=200_000, refunds=200_000)
