"""A session's bill follows its price: billed at the exit, requoted or cancelled while unpaid, flagged after."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from identity.models import Citizen
from parking.charges import CHANGED_AFTER_PAYMENT, claim_charge
from parking.errors import SessionNotClaimable
from parking.models import ParkingSession
from parking.vehicles import link_vehicle
from payments.codes import new_payment_code
from payments.models.billing import Bill, Payment
from tests.parking.conftest import NOW, VAULT
from tests.parking.test_gate import event, hanoi, take


def _bill(db, row: ParkingSession) -> Bill:
    db.flush()
    return db.get(Bill, row.bill_id)


def test_an_exit_bills_the_linked_citizen_for_the_operators_agency_with_its_share(db, operator, clock, citizen):
    link_vehicle(db, citizen, "29A-123.45", "MOTORBIKE", clock=clock)
    take(db, operator, event("entry", hanoi(8)), clock)
    row = take(db, operator, event("exit", hanoi(12)), clock).session
    bill = _bill(db, row)
    assert (bill.payer_id_hash, bill.citizen_id, bill.payer_name) == (citizen.personal_id_hash, citizen.id,
                                                                      "Nguyễn Văn An")
    assert (bill.amount_due, bill.base_amount, bill.agency_code, bill.service_code) == (5000, 5000, "HN-PARKING",
                                                                                        "PARKING_HN")
    assert (bill.fee_kind, bill.retained_basis_points, bill.status) == ("phi", 3000, "open")
    assert bill.explanation["parking"]["segments"][0]["applied"] == ["PARK-HN-MOTORBIKE-DAY@1"]
    assert "request" not in bill.explanation  # an e-ID login never requotes a parking charge


def test_an_unlinked_vehicle_is_billed_to_its_placeholder_and_claimed_once_by_the_ticket(db, operator, clock,
                                                                                        citizen):
    take(db, operator, event("entry", hanoi(8)), clock)
    row = take(db, operator, event("exit", hanoi(12)), clock).session
    assert _bill(db, row).payer_id_hash == VAULT.vehicle_payer_hash("29A12345")
    claimed = claim_charge(db, citizen, row.public_id, vault=VAULT, clock=clock)
    assert claimed.payer_id_hash == citizen.personal_id_hash
    assert claim_charge(db, citizen, row.public_id, vault=VAULT, clock=clock).id == claimed.id  # again: a no-op
    other = Citizen(issuer="https://idp.example", subject="c-2", personal_id_encrypted=b"x",
                    personal_id_hash=VAULT.lookup_hash("079200012378"), personal_id_masked="0792******78",
                    full_name="Lê Minh Châu", eid_level=2, created_at=NOW, updated_at=NOW)
    db.add(other)
    db.flush()
    with pytest.raises(SessionNotClaimable):
        claim_charge(db, other, row.public_id, vault=VAULT, clock=clock)


def test_a_late_entry_requotes_the_unpaid_bill(db, operator, clock):
    lone = take(db, operator, event("exit", hanoi(12)), clock).session
    assert _bill(db, lone).amount_due == 12000  # an exit without entry: the lot's 24-hour rule
    late = take(db, operator, event("entry", hanoi(8)), clock).session
    bill = _bill(db, late)
    assert (bill.amount_due, bill.previous_amount_due, bill.status) == (5000, 12000, "open")
    assert db.scalar(select(Bill.id).where(Bill.id != bill.id)) is None  # one bill, requoted


def test_a_session_superseded_by_a_late_entry_has_its_unpaid_bill_cancelled(db, operator, clock):
    take(db, operator, event("entry", hanoi(8)), clock)
    first = take(db, operator, event("exit", hanoi(12)), clock).session
    first_bill = _bill(db, first)
    take(db, operator, event("entry", hanoi(11)), clock)  # a later entry before that exit arrives late
    db.expire_all()
    bills = {b.id: b for b in db.scalars(select(Bill))}
    sessions = list(db.scalars(select(ParkingSession).order_by(ParkingSession.id)))
    closed = [s for s in sessions if s.status == "closed"]
    assert [s.status for s in sessions].count("superseded") == 1 and len(closed) == 1
    assert bills[closed[0].bill_id].amount_due == 5000 and bills[closed[0].bill_id].status == "open"
    superseded = next(s for s in sessions if s.status == "superseded")
    # The first session keeps its id (and its bill, now cancelled); the new stay 11:00-12:00 is billed anew.
    assert superseded.id == first.id and superseded.bill_id == first_bill.id
    assert bills[first_bill.id].status == "cancelled" and closed[0].bill_id != first_bill.id


def test_a_charge_that_changes_while_being_paid_keeps_its_amount_and_is_flagged(db, operator, clock):
    lone = take(db, operator, event("exit", hanoi(12)), clock).session
    bill = _bill(db, lone)
    db.add(Payment(public_id=new_payment_code(), bill_id=bill.id, provider="sandbox", status="submitted",
                   amount=bill.amount_due, currency="VND", refunded_amount=0, created_at=NOW,
                   expires_at=NOW + timedelta(minutes=30), updated_at=NOW))
    db.flush()
    late = take(db, operator, event("entry", hanoi(8)), clock).session
    assert late.amount == 5000 and CHANGED_AFTER_PAYMENT in late.flags
    assert _bill(db, late).amount_due == 12000  # the payer pays what they were shown; staff refund the rest
