"""Every payment attempt's public id is a payment code that banks and providers carry back to us."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments import starting
from payments.codes import ALPHABET, PAYMENT_CODE, extract_payment_code
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


@pytest.mark.parametrize("memo", [
    "MBVCB.1234567.GW7K2M9Q4XAB.CT tu 0071000888888 NGUYEN VAN A toi 1234",  # Vietcombank's rewrite
    "gw7k2m9q4xab nop phi LLTP",  # typed in lower case
    "NOP PHI GW 7K2M 9Q4X AB",  # spaced as printed on the bill
    "IBFT GW-7K2M-9Q4X-AB",
    "TRACE 998877 ND: G W.7K2M.9Q4XAB",
])
def test_the_code_is_found_in_a_memo_whatever_the_bank_or_the_citizen_did_to_it(memo):
    assert extract_payment_code(memo) == "GW7K2M9Q4XAB"


@pytest.mark.parametrize("memo", ["GW7K2M9Q4XA", "XGW7K2M9Q4XAB", "GW7K2M9Q4XABC", "GW 7K2M 9Q4X A", "GWIK2M9Q4XAB",
                                  "GW7K2M9Q4XAB7", "GW  7K2M9Q4XAB"])
def test_a_memo_with_no_whole_code_names_no_payment(memo):
    assert extract_payment_code(memo) is None


@given(st.text(ALPHABET, min_size=10, max_size=10), st.lists(st.sampled_from(["", " ", ".", "-", "_", "/"]),
                                                            min_size=11, max_size=11), st.booleans())
def test_any_code_with_one_separator_anywhere_and_any_case_is_found(body, separators, lower):
    code = "GW" + body
    written = code[0] + "".join(s + c for s, c in zip(separators, code[1:], strict=True))
    memo = f"CT tu 0071000888888 {written.lower() if lower else written} nop phi"
    assert extract_payment_code(memo) == code
