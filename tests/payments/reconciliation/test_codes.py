import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.codes import extract_payment_code

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@pytest.mark.parametrize(("text", "code"), [
    ("MBVCB.4525077405.GW7K2M9Q4XAB.CT tu 0123 NGUYEN VAN A", "GW7K2M9Q4XAB"),
    ("IBFT gw3p8r2t6v9c thanh toan", "GW3P8R2T6V9C"),
    ("NOP PHI LLTP", None),
    ("XGW7K2M9Q4XAB", None),           # glued to other letters: not ours
    ("GW7K2M9Q4XABC", None),           # one character too long
    ("GW7K2M9Q4XIL", None),            # I and L are not in the alphabet
])
def test_payment_codes_are_found_in_bank_free_text(text, code):
    assert extract_payment_code(text) == code


@given(st.text(alphabet=ALPHABET, min_size=10, max_size=10), st.text(max_size=30), st.text(max_size=30))
def test_a_code_surrounded_by_spaces_is_always_found(body, before, after):
    code = "GW" + body
    assert extract_payment_code(f"{before} {code} {after}") in (code, extract_payment_code(before))


def test_a_new_payment_code_is_one_the_extractor_finds():
    from payments.codes import new_payment_code

    codes = {new_payment_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(extract_payment_code(f"CT tu NGUYEN VAN A {code} phi LLTP") == code for code in codes)
