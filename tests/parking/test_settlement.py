"""An operator's day cut from gates, sessions and the ledger; counts that exceed sessions become breaks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from parking.counts import CountIn, take_count
from parking.models import ParkingLot
from parking.settlement import check_under_reporting, operator_day, scope_of
from payments.codes import new_payment_code
from payments.models.billing import Bill, Payment
from payments.reconciliation.runs import ReconBreak
from payments.settlement import mark_bill_paid
from tests.parking.conftest import NOW
from tests.parking.test_gate import event, hanoi, take

DAY = NOW.date()


def _stays(db, operator, clock, vehicles: int) -> list[Bill]:
    """``vehicles`` motorbikes in 08:00, out 12:00: 5.000 ₫ each (a day turn)."""
    bills = []
    for n in range(vehicles):
        take(db, operator, event("entry", hanoi(8), plate=f"29A{n:05d}"), clock)
        row = take(db, operator, event("exit", hanoi(12), plate=f"29A{n:05d}"), clock).session
        db.flush()
        bills.append(db.get(Bill, row.bill_id))
    return bills


def _pay(db, bill: Bill, clock) -> None:
    payment = Payment(public_id=new_payment_code(), bill_id=bill.id, provider="sandbox", status="succeeded",
                      amount=bill.amount_due, currency="VND", refunded_amount=0, created_at=NOW,
                      expires_at=NOW + timedelta(minutes=30), updated_at=NOW, finished_at=NOW)
    db.add(payment)
    db.flush()
    mark_bill_paid(db, bill, payment, clock=clock)


def _count(db, operator, clock, vehicles: int, count_id: str = "insp-1"):
    return take_count(db, operator, CountIn(count_id, "HK-HANG-KHAY", "inspector", hanoi(6), hanoi(13), vehicles),
                      clock=clock)


def test_the_day_statement_splits_what_was_paid_between_operator_and_treasury(db, operator, clock):
    bills = _stays(db, operator, clock, 4)
    for bill in bills[:3]:
        _pay(db, bill, clock)
    statement = operator_day(db, operator, DAY)
    [lot] = [d for d in statement.lots if d.lot.code == "HK-HANG-KHAY"]
    assert (lot.entries, lot.exits, lot.sessions_priced, lot.charged) == (4, 4, 4, 20_000)
    money = statement.money
    assert (money.paid, money.paid_by_rail, money.charges_paid, money.unpaid) == (15_000, {"sandbox": 15_000}, 3, 5_000)
    # The operator keeps 30 % under its contract; the rest is the budget's. Card money waits at the provider.
    assert (money.operator_share, money.treasury_due) == (4_500, 10_500)
    assert (money.at_providers, money.arrived) == (15_000, 0)
    assert statement.deadline is not None and statement.deadline_rule


def test_a_count_is_taken_once_and_a_changed_retry_is_refused(db, operator, clock):
    import pytest

    from parking.errors import EventIdReused, EventInvalid

    first, repeated = _count(db, operator, clock, 10)
    again, repeated_again = _count(db, operator, clock, 10)
    assert (repeated, repeated_again, again.id) == (False, True, first.id)
    with pytest.raises(EventIdReused):
        _count(db, operator, clock, 11)
    with pytest.raises(EventInvalid):
        take_count(db, operator, CountIn("insp-2", "HK-HANG-KHAY", "guess", hanoi(6), hanoi(13), 3), clock=clock)


def test_an_under_reported_day_opens_one_break_and_late_sessions_close_it(db, operator, clock):
    _stays(db, operator, clock, 10)
    _count(db, operator, clock, 30)  # an inspector counted 30 vehicles; the operator reported 10
    [flagged] = check_under_reporting(db, operator, DAY, actor="staff:1", clock=clock)
    assert (flagged.counted, flagged.entries, flagged.gap) == (30, 10, 20)
    check_under_reporting(db, operator, DAY, actor="staff:1", clock=clock)  # again: the same break
    [found] = db.scalars(select(ReconBreak).where(ReconBreak.scope == scope_of(operator))).all()
    assert (found.kind, found.status, found.our_amount, found.their_amount) == (
        "missing_internally", "open", 50_000, 150_000)
    lot = db.scalars(select(ParkingLot).where(ParkingLot.code == "HK-HANG-KHAY")).one()
    assert found.key == f"count:{lot.code}:{DAY.isoformat()}"
    _late = [take(db, operator, event("entry", hanoi(9), plate=f"30B{n:05d}"), clock) for n in range(19)]
    assert check_under_reporting(db, operator, DAY, actor="staff:1", clock=clock) == []
    db.refresh(found)
    assert found.status == "auto_closed"


def test_a_small_gap_is_within_tolerance(db, operator, clock):
    _stays(db, operator, clock, 10)
    _count(db, operator, clock, 13)  # 3 vehicles: under the 5-vehicle floor
    assert check_under_reporting(db, operator, DAY, actor="staff:1", clock=clock) == []
