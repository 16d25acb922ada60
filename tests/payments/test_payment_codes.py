"""Every payment attempt's public id is a payment code that banks and providers carry back to us."""

from payments import starting
from payments.codes import PAYMENT_CODE
from tests.payments.factories import make_bill, make_payment


def test_a_payment_is_identified_by_a_payment_code(db, clock, sandbox):
    payment = make_payment(db, clock)
    assert PAYMENT_CODE.fullmatch(payment.public_id)


def test_a_code_already_taken_is_drawn_again(db, clock, sandbox, monkeypatch):
    first = make_payment(db, clock)
    draws = iter([first.public_id, "GW0000NEW001"])
    monkeypatch.setattr(starting, "new_payment_code", lambda: next(draws))
    second = make_payment(db, clock, bill=make_bill(db, clock, agency_reference="HS-2"))
    assert second.public_id == "GW0000NEW001"
