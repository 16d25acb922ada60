"""Personal ID numbers: exactly 12 digits, encrypted at rest, found by keyed hash, shown masked."""

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from identity.errors import InvalidPersonalId
from identity.personal_data import PersonalIdVault, mask_personal_id, validate_personal_id

VAULT = PersonalIdVault(b"k" * 32)
numbers = st.from_regex(r"\A[0-9]{12}\Z")


@given(numbers)
def test_encryption_round_trips_and_hides_the_number(number):
    blob = VAULT.encrypt(number)
    assert VAULT.decrypt(blob) == number and number.encode() not in blob


@given(numbers)
def test_the_lookup_hash_is_stable_and_depends_on_the_key(number):
    assert VAULT.lookup_hash(number) == VAULT.lookup_hash(number)
    assert PersonalIdVault(b"j" * 32).lookup_hash(number) != VAULT.lookup_hash(number)


def test_two_encryptions_differ_and_another_key_cannot_decrypt():
    first, second = VAULT.encrypt("001085012345"), VAULT.encrypt("001085012345")
    assert first != second
    with pytest.raises(InvalidTag):
        PersonalIdVault(b"j" * 32).decrypt(first)


def test_masking_keeps_four_and_two_digits():
    assert mask_personal_id("001185012345") == "0011******45"


@pytest.mark.parametrize("value", ["00108501234", "0010850123456", "00108501234a", "００１０８５０１２３４５",
                                   " 001085012345", None, 1085012345])
def test_anything_but_twelve_ascii_digits_is_refused(value):
    with pytest.raises(InvalidPersonalId):
        validate_personal_id(value)


def test_a_short_master_key_is_refused():
    with pytest.raises(ValueError):
        PersonalIdVault(b"short")
