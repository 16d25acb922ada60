from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import Money, MoneyError, format_money, vnd


@pytest.mark.parametrize(("amount", "locale", "shown"), [
    (200_000, "vi", "200.000 ₫"),
    (200_000, "en", "200,000 ₫"),
    (5_000, "vi", "5.000 ₫"),
    (0, "vi", "0 ₫"),
    (999, "vi", "999 ₫"),
    (1_234_567_890, "vi", "1.234.567.890 ₫"),
    (-100_000, "vi", "-100.000 ₫"),
])
def test_vnd_is_formatted_as_vietnamese_read_it(amount, locale, shown):
    assert format_money(vnd(amount), locale) == shown


@pytest.mark.parametrize("bad", [200000.0, True, "200000", Decimal("1")])
def test_money_refuses_anything_but_integer_minor_units(bad):
    with pytest.raises(MoneyError):
        Money(bad)


def test_money_refuses_unknown_currency_and_mixing():
    with pytest.raises(MoneyError):
        Money(1, "XYZ")
    with pytest.raises(MoneyError):
        vnd(1) + 1


@pytest.mark.parametrize(("amount", "rate", "expected"), [
    (200_000, 50, 100_000),
    (5, 50, 3),          # 2.5 rounds half up
    (3, Decimal("33.3"), 1),
    (200_000, 100, 200_000),
])
def test_percent_rounds_half_up_to_whole_dong(amount, rate, expected):
    assert vnd(amount).percent(rate) == vnd(expected)


def test_percent_refuses_float_rates():
    with pytest.raises(MoneyError):
        vnd(100).percent(12.5)


def test_amount_due_is_never_below_zero():
    assert (vnd(100_000) - vnd(150_000)).clamp_at_zero() == vnd(0)


@given(st.integers(-10**12, 10**12), st.integers(-10**12, 10**12))
def test_addition_and_subtraction_are_exact(a, b):
    assert (vnd(a) + vnd(b) - vnd(b)) == vnd(a)
    assert (vnd(a) + vnd(b)).amount == a + b


@given(st.integers(0, 10**12), st.integers(0, 100))
def test_a_percentage_never_exceeds_the_amount(amount, rate):
    part = vnd(amount).percent(rate)
    assert vnd(0) <= part <= vnd(amount)


def test_times_multiplies_by_whole_quantities_only():
    assert vnd(5_000).times(3) == vnd(15_000)
    with pytest.raises(MoneyError):
        vnd(5_000).times(1.5)


@pytest.mark.parametrize(("value", "currency", "minor"), [
    ("26338000", "VND", 26_338_000), ("8.85", "EUR", 885), ("-7.00", "EUR", -700), ("2853.12", "USD", 285_312),
    (Decimal("0"), "SEK", 0), ("1500", "JPY", 1500), ("1.234", "KWD", 1234),
])
def test_report_amounts_become_exact_minor_units(value, currency, minor):
    from core.money import to_minor_units

    assert to_minor_units(value, currency) == minor


@pytest.mark.parametrize(("value", "currency"), [("1.5", "VND"), ("8.855", "EUR"), ("abc", "EUR"), ("NaN", "EUR"),
                                                 ("1", "XXX"), ("Infinity", "USD")])
def test_misread_report_amounts_are_refused_not_rounded(value, currency):
    from core.money import to_minor_units

    with pytest.raises(MoneyError):
        to_minor_units(value, currency)
