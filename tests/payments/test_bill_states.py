"""A bill's status changes only through its transition table, each change (creation too) with its event."""

from __future__ import annotations

from itertools import product

import pytest
from sqlalchemy import select

from payments.bill_states import TRANSITIONS, BillStatus, transition_bill
from payments.bills import cancel_bill
from payments.errors import BillNotPayable, InvalidBillTransition
from payments.models.billing import BILL_STATUSES, BillEvent
from payments.settlement import settle_free_bill
from tests.payments.factories import judicial_record_quote, make_bill

EVERY_PAIR = list(product(BillStatus, repeat=2))


def _history(db, bill) -> list[tuple]:
    return [tuple(row) for row in db.execute(select(BillEvent.from_status, BillEvent.to_status, BillEvent.event,
                                                    BillEvent.actor)
                                             .where(BillEvent.bill_id == bill.id).order_by(BillEvent.id))]


@pytest.mark.parametrize(("start", "target"), EVERY_PAIR, ids=[f"{a}-{b}" for a, b in EVERY_PAIR])
def test_a_bill_moves_only_along_the_table_and_each_move_is_recorded(db, clock, start, target):
    bill = make_bill(db, clock)
    bill.status = start.value  # arranging the start; the table is what is under test
    db.flush()
    before = _history(db, bill)
    if (start, target) in TRANSITIONS:
        transition_bill(db, bill, target, actor="test", clock=clock)
        db.flush()
        assert bill.status == target and _history(db, bill)[len(before):] == [
            (start.value, target.value, TRANSITIONS[(start, target)], "test")]
    else:
        with pytest.raises(InvalidBillTransition):
            transition_bill(db, bill, target, actor="test", clock=clock)
        assert bill.status == start and _history(db, bill) == before


def test_a_new_bill_starts_its_history_as_created_by_its_agency(db, clock):
    bill = make_bill(db, clock, agency_code="HN-STP")
    assert _history(db, bill) == [(None, "open", "created", "agency:HN-STP")]


def test_a_retried_bill_creation_writes_no_second_created_event(db, clock):
    first = make_bill(db, clock, agency_reference="HS-RETRY")
    again = make_bill(db, clock, agency_reference="HS-RETRY", payer_id_hash=first.payer_id_hash)
    assert again.id == first.id and len(_history(db, first)) == 1


def test_a_cancelled_bill_says_who_cancelled_it_and_stays_cancelled(db, clock):
    bill = cancel_bill(db, make_bill(db, clock).public_id, actor="api_client:7", clock=clock)
    assert _history(db, bill)[-1] == ("open", "cancelled", "cancelled", "api_client:7")
    with pytest.raises(BillNotPayable):
        cancel_bill(db, bill.public_id, actor="api_client:7", clock=clock)
    assert len(_history(db, bill)) == 2


def test_a_free_bill_settled_by_its_payer_is_recorded_as_paid_by_the_payer(db, clock):
    bill = make_bill(db, clock, quote=judicial_record_quote(due=0))
    settle_free_bill(db, bill.public_id, clock=clock)
    assert _history(db, bill)[-1] == ("open", "paid", "paid", "payer")


def test_the_tables_check_constraint_lists_exactly_the_state_machines_statuses():
    assert set(BILL_STATUSES) == {s.value for s in BillStatus}
