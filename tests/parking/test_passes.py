"""Monthly passes: sold once per lot, plate and month, priced by the city's rule, covering stays once paid."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core.money import vnd
from parking.errors import PassRefused
from parking.models import ParkingPass, ParkingVehicle
from parking.passes import buy_pass, passes_of, renew_pass
from parking.vehicles import link_vehicle, unlink_vehicle
from payments.bills import cancel_bill
from payments.confirmation import apply_report
from payments.models.billing import Bill
from payments.providers.base import ProviderSession, ProviderStatus, StatusReport
from payments.starting import record_provider_session
from subsidies.seed import seed_catalogue, seed_rules
from tests.parking.test_gate import event, hanoi, take
from tests.payments.factories import make_payment

DECEMBER, JANUARY = date(2026, 12, 1), date(2027, 1, 1)


@pytest.fixture()
def rules(db, registered_sandbox):  # the passes' rules, and a provider for their payments
    seed_catalogue(db)
    seed_rules(db)


@pytest.fixture()
def motorbike(db, citizen, clock) -> ParkingVehicle:
    return link_vehicle(db, citizen, "29A-123.45", "MOTORBIKE", clock=clock)


def _pay(db, held: ParkingPass, clock) -> None:
    bill = db.get(Bill, held.bill_id)
    payment = make_payment(db, clock, bill)
    payment = record_provider_session(db, payment.public_id,
                                      ProviderSession(f"sbx_{payment.public_id}", "https://pay.test/x", clock.now()),
                                      clock=clock)
    apply_report(db, payment.public_id, StatusReport(payment.provider_session_id, ProviderStatus.SUCCEEDED,
                                                     payment.public_id, vnd(payment.amount)),
                 cause="notification", clock=clock)


def _stay(db, operator, clock, entered, exited):
    take(db, operator, event("entry", entered), clock)
    return take(db, operator, event("exit", exited), clock).session


def test_a_pass_is_billed_at_the_citys_monthly_price_for_the_operators_agency(db, rules, operator, citizen,
                                                                               motorbike, clock):
    held = buy_pass(db, citizen, motorbike.id, "HK-HANG-KHAY", DECEMBER, clock=clock)
    bill = db.get(Bill, held.bill_id)
    assert (bill.amount_due, bill.service_code, bill.agency_code, bill.retained_basis_points) == (
        120_000, "PARKING_HN_MONTHLY", "HN-PARKING", 3000)
    assert bill.citizen_id == citizen.id and bill.agency_reference == held.public_id
    [layer] = bill.explanation["layers"]
    assert layer["entries"][0]["rule_id"] == "PARK-HN-MOTORBIKE-MONTH"
    assert held.valid_from == hanoi(0, day=1) and held.valid_until == hanoi(0, day=1) + timedelta(days=31)


def test_buying_the_same_month_again_answers_the_pass_already_bought(db, rules, operator, citizen, motorbike,
                                                                     clock):
    first = buy_pass(db, citizen, motorbike.id, "HK-HANG-KHAY", DECEMBER, clock=clock)
    again = buy_pass(db, citizen, motorbike.id, "HK-HANG-KHAY", date(2026, 12, 19), clock=clock)
    assert again.id == first.id and db.scalar(select(func.count()).select_from(ParkingPass)) == 1


def test_a_paid_pass_covers_the_stay_at_nothing_to_pay_and_an_unpaid_one_does_not(db, rules, operator,
                                                                                   citizen, motorbike, clock):
    held = buy_pass(db, citizen, motorbike.id, "HK-HANG-KHAY", DECEMBER, clock=clock)
    unpaid = _stay(db, operator, clock, hanoi(8), hanoi(9))
    assert unpaid.amount == 5000 and unpaid.bill_id is not None
    _pay(db, held, clock)
    covered = _stay(db, operator, clock, hanoi(10), hanoi(12))
    assert (covered.amount, covered.bill_id) == (0, None)
    assert covered.pricing["covered_by"] == f"pass:{held.public_id}"


def test_a_stay_into_a_month_without_a_pass_is_charged_and_consecutive_passes_cover_it(db, rules, operator,
                                                                                         citizen, motorbike, clock):
    _pay(db, buy_pass(db, citizen, motorbike.id, "HK-HANG-KHAY", DECEMBER, clock=clock), clock)
    clock.set(hanoi(12, day=31) + timedelta(days=1))  # 1 January 2027, noon: the gates have sent both stays
    across = _stay(db, operator, clock, hanoi(20, day=31), hanoi(7, day=31) + timedelta(days=1))  # into 1 January
    assert across.amount > 0
    _pay(db, buy_pass(db, citizen, motorbike.id, "HK-HANG-KHAY", JANUARY, clock=clock), clock)
    again = _stay(db, operator, clock, hanoi(21, day=31), hanoi(7, day=31) + timedelta(days=1, hours=1))
    assert again.amount == 0


def test_a_refunded_pass_covers_nothing(db, rules, operator, citizen, motorbike, clock):
    held = buy_pass(db, citizen, motorbike.id, "HK-HANG-KHAY", DECEMBER, clock=clock)
    _pay(db, held, clock)
    [payment] = db.get(Bill, held.bill_id).payments
    payment.refunded_amount = 120_000  # what the refund path records once the money went back
    db.flush()
    assert _stay(db, operator, clock, hanoi(10), hanoi(12)).amount == 5000
    assert [view.status for view in passes_of(db, citizen, clock=clock)] == ["cancelled"]


def test_renewing_buys_the_next_month_for_the_same_vehicle_and_lot(db, rules, operator, citizen, motorbike,
                                                                   clock):
    held = buy_pass(db, citizen, motorbike.id, "HK-HANG-KHAY", DECEMBER, clock=clock)
    _pay(db, held, clock)
    renewed = renew_pass(db, citizen, held.public_id, clock=clock)
    assert renewed.valid_from == held.valid_until and (renewed.lot_id, renewed.plate) == (held.lot_id, held.plate)
    assert [view.status for view in passes_of(db, citizen, clock=clock)] == ["awaiting_payment", "active"]
    with pytest.raises(PassRefused) as refused:  # February is not on sale in December
        renew_pass(db, citizen, renewed.public_id, clock=clock)
    assert refused.value.details["reason"] == "month_not_on_sale"


def test_a_pass_whose_bill_was_cancelled_unpaid_is_let_go_and_a_new_one_sold(db, rules, operator, citizen,
                                                                              motorbike, clock):
    first = buy_pass(db, citizen, motorbike.id, "HK-HANG-KHAY", DECEMBER, clock=clock)
    cancel_bill(db, db.get(Bill, first.bill_id).public_id, actor="test", clock=clock)
    second = buy_pass(db, citizen, motorbike.id, "HK-HANG-KHAY", DECEMBER, clock=clock)
    assert second.id != first.id and first.cancelled_at is not None


@pytest.mark.parametrize(("vehicle", "lot", "month", "reason"), [
    ("CAR", "HK-HANG-KHAY", DECEMBER, "no_pass_for_vehicle"),  # Hà Nội's rule prices motorbike passes only
    ("MOTORBIKE", "NO-SUCH-LOT", DECEMBER, "no_pass_for_vehicle"),
    ("MOTORBIKE", "HK-HANG-KHAY", date(2026, 11, 1), "month_not_on_sale"),
    ("MOTORBIKE", "HK-HANG-KHAY", date(2027, 2, 1), "month_not_on_sale"),
])
def test_a_pass_the_lot_does_not_sell_is_refused_with_its_reason(db, rules, operator, citizen, clock, vehicle, lot,
                                                                 month, reason):
    linked = link_vehicle(db, citizen, "30K-555.66", vehicle, clock=clock)
    with pytest.raises(PassRefused) as refused:
        buy_pass(db, citizen, linked.id, lot, month, clock=clock)
    assert refused.value.details["reason"] == reason
    assert db.scalar(select(func.count()).select_from(Bill)) == 0


def test_an_unlinked_vehicle_gets_no_pass(db, rules, operator, citizen, motorbike, clock):
    unlink_vehicle(db, citizen, motorbike.id, clock=clock)
    with pytest.raises(PassRefused) as refused:
        buy_pass(db, citizen, motorbike.id, "HK-HANG-KHAY", DECEMBER, clock=clock)
    assert refused.value.details["reason"] == "vehicle_not_linked"
