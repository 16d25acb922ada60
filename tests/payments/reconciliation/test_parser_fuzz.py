"""Every report reader, given garbage or a damaged real file, returns what it read or refuses with a stable
code (``import_rejected``); it never raises anything else, which the back office would show as a 500.

Seeds are the real sample files of each format; hypothesis truncates them, flips, drops and inserts bytes,
and also sends bytes with no structure at all (issue 17: a fuzz test over every parser).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import DomainError
from payments.reconciliation.readers import read_report

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = {
    "camt053": ["same-day.camt053.xml", "treasury-april.camt053.xml"],
    "mt940": ["same-day.mt940.sta"],
    "vn_bank": ["same-day.vn-signed.csv", "same-day.vn-debit-credit.csv", "vcb-sao-ke-debit-credit.csv"],
    "stripe": ["same-day.stripe.csv", "stripe-payout-reconciliation-itemized.csv"],
    "stripe_api": ["same-day.stripe-api.json"],
    "vnpay": ["same-day.vnpay.csv", "vnpay-settlement-sample.csv"],
}
CASES = [(format_, name) for format_, names in SEEDS.items() for name in names]


@st.composite
def damaged(draw, original: bytes) -> bytes:
    """``original`` with a few edits: a cut, a replaced run of bytes, a dropped line, an inserted oddity."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(("cut", "replace", "drop_line", "insert")))
        if edit == "cut":
            del data[at:]
        elif edit == "replace":
            data[at:at + draw(st.integers(1, 8))] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "drop_line":
            end = data.find(b"\n", at)
            del data[at:end if end >= 0 else len(data)]
        else:
            data[at:at] = draw(st.sampled_from((b"\x00", b"\xff\xfe", b"-", b"9" * 30, b"<", b'"', b",", b"\r",
                                                b"1e308", b"NaN", "₫".encode(), b"&#0;")))
    return bytes(data)


def _read_or_refuse(format_: str, content: bytes) -> None:
    try:
        read_report(content, format_)
    except DomainError as refused:
        assert refused.code == "import_rejected", refused.code


@pytest.mark.parametrize(("format_", "name"), CASES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_damaged_real_file_is_read_or_refused_with_a_stable_code(format_, name, data):
    original = (FIXTURES / name).read_bytes()
    _read_or_refuse(format_, data.draw(damaged(original)))


@pytest.mark.parametrize("format_", list(SEEDS))
@settings(max_examples=60, deadline=None)
@given(content=st.binary(max_size=2000) | st.text(max_size=500).map(str.encode))
def test_bytes_with_no_structure_are_refused_with_a_stable_code(format_, content):
    _read_or_refuse(format_, content)


def _edited(name: str, old: bytes, new: bytes) -> bytes:
    original = (FIXTURES / name).read_bytes()
    assert old in original
    return original.replace(old, new, 1)


@pytest.mark.parametrize(("format_", "content"), [
    ("camt053", _edited("same-day.camt053.xml", b'encoding="UTF-8"', b'encoding="U-TF-8"')),
    ("camt053", _edited("treasury-april.camt053.xml", b"<ValDt><Dt>2026-04-02", b"<ValDt><Dt> 026-04-02")),
    ("stripe", _edited("same-day.stripe.csv", b",200000,7800,", b",-1e308100000,7800,")),
], ids=["unknown-encoding", "date-missing-a-digit", "amount-overflowing"])
def test_what_the_fuzzer_found_is_refused_with_a_stable_code(format_, content):
    with pytest.raises(DomainError) as refused:
        read_report(content, format_)
    assert refused.value.code == "import_rejected"
