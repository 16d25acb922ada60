"""Bills are priced by the server, requoted until payment starts, unique per agency reference."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.errors import Conflict
from core.money import vnd
from payments.bills import Quote, SubsidyLine, cancel_bill, get_bill, requote_bill
from payments.errors import BillNotFound, BillNotPayable, InvalidBill, PaymentInProgress
from payments.queries import bill_history
from tests.payments.factories import HANOI_PROGRAMME, judicial_record_quote, make_bill, make_payment, new_bill


def test_a_bill_pins_its_quote_as_a_snapshot(db, clock):
    bill = make_bill(db, clock, quote=judicial_record_quote(due=0, base=200_000))
    assert (bill.amount_due, bill.base_amount, bill.currency) == (0, 200_000, "VND")
    assert bill.subsidy_lines == [{"programme": HANOI_PROGRAMME, "amount": 200_000}]
    assert bill.explanation["applied"] == [HANOI_PROGRAMME] and bill.rule_set_hash == "r" * 64
    assert bill.status == "open" and len(bill.public_id) == 32


@pytest.mark.parametrize("quote, message", [
    (Quote(vnd(100), vnd(200)), "plus subsidies 0"),
    (Quote(vnd(-1), vnd(-1)), "negative"),
    (Quote(vnd(0), vnd(100), (SubsidyLine("P", vnd(150)),)), "plus subsidies 150"),
], ids=["subsidies-missing", "negative", "subsidies-too-large"])
def test_a_quote_whose_amounts_do_not_add_up_is_refused(db, clock, quote, message):
    with pytest.raises(InvalidBill, match=message):
        make_bill(db, clock, quote=quote)


@pytest.mark.parametrize("overrides", [
    {"quantity": 0}, {"fee_kind": "tax"}, {"fee_kind": "le_phi", "retained_basis_points": 500},
    {"retained_basis_points": 10_001},
], ids=["quantity", "kind", "le-phi-retains", "share"])
def test_invalid_bill_data_is_refused(db, clock, overrides):
    with pytest.raises(InvalidBill):
        make_bill(db, clock, **overrides)


def test_an_agency_retry_returns_the_same_bill_and_a_clash_is_refused(db, clock):
    request = new_bill()
    first = make_bill(db, clock, payer_id_hash=request.payer_id_hash, agency_reference=request.agency_reference)
    again = make_bill(db, clock, payer_id_hash=request.payer_id_hash, agency_reference=request.agency_reference)
    assert again.id == first.id
    with pytest.raises(Conflict, match="already used"):
        make_bill(db, clock, payer_id_hash="someone-else", agency_reference=request.agency_reference)


def test_a_bill_is_quoted_again_after_e_id_login(db, clock):
    # Billed before login at the full fee; after a level-2 VNeID login the Hà Nội support applies.
    bill = make_bill(db, clock)
    clock.advance(minutes=5)
    requoted = requote_bill(db, bill.public_id, judicial_record_quote(due=0), clock=clock)
    assert requoted.amount_due == 0 and requoted.quoted_at == clock.now()
    assert requoted.previous_amount_due == 200_000 and requoted.previous_explanation == {"fee": "LLTP", "applied": []}


def test_the_quote_is_final_once_a_payment_starts(db, clock, sandbox):
    payment = make_payment(db, clock)
    with pytest.raises(PaymentInProgress):
        requote_bill(db, payment.bill.public_id, judicial_record_quote(due=0), clock=clock)
    with pytest.raises(PaymentInProgress):
        cancel_bill(db, payment.bill.public_id, actor="agency", clock=clock)


def test_a_cancelled_bill_cannot_be_requoted(db, clock):
    bill = cancel_bill(db, make_bill(db, clock).public_id, actor="agency", clock=clock)
    assert bill.status == "cancelled"
    with pytest.raises(BillNotPayable):
        requote_bill(db, bill.public_id, judicial_record_quote(), clock=clock)


def test_a_payer_sees_their_own_bills_newest_first(db, clock):
    older = make_bill(db, clock, payer_id_hash="p-1")
    clock.advance(days=1)
    newer = make_bill(db, clock, payer_id_hash="p-1")
    make_bill(db, clock, payer_id_hash="p-2")
    assert [b.id for b in bill_history(db, "p-1")] == [newer.id, older.id]


def test_an_unknown_bill_is_not_found(db):
    with pytest.raises(BillNotFound):
        get_bill(db, "0" * 32)




def test_a_bill_keeps_the_id_of_the_quote_it_pinned_and_a_requote_replaces_it(db, clock):
    first, second = "0b0e6c2e-5c8e-4d43-9b7e-2f4a1c3d5e6f", "7d1f0a9b-3c2e-4b5a-8f6d-9e8c7b6a5d4c"
    bill = make_bill(db, clock, quote=replace(judicial_record_quote(), quote_id=first))
    db.expire_all()
    assert get_bill(db, bill.public_id).quote_id == first
    requote_bill(db, bill.public_id, replace(judicial_record_quote(due=0), quote_id=second), clock=clock)
    db.expire_all()
    assert get_bill(db, bill.public_id).quote_id == second
    requote_bill(db, bill.public_id, judicial_record_quote(), clock=clock)  # priced outside the engine
    assert get_bill(db, bill.public_id).quote_id is None
