"""Bank transfer notifications (SePay-shaped): authenticated per connection, read into a transfer, or refused."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import vnd
from payments.bank_transfers import BankConnection, authenticate, read
from payments.errors import BankNotificationRejected

BY_KEY = BankConnection("stp-vcb", "0071000888888", api_key="sepay-key-" + "k" * 20)
BY_HMAC = BankConnection("stp-mb", "0071000888888", hmac_secret="h" * 32, signature_header="X-SePay-Signature")
# The shape of SePay's documented example, with a Vietcombank memo that carries our payment code.
NOTIFICATION = {"id": 92704, "gateway": "Vietcombank", "transactionDate": "2026-12-07 09:15:02",
                "accountNumber": "0071000888888", "code": None,
                "content": "MBVCB.3278907687.GW7K2M9Q4XAB.CT tu 0011004123456 NGUYEN VAN A toi 0071000888888",
                "transferType": "in", "transferAmount": 200000, "accumulated": 19077000, "subAccount": None,
                "referenceCode": "MBVCB.3278907687", "description": ""}


def _body(**changes) -> bytes:
    return json.dumps({**NOTIFICATION, **changes}).encode()


def test_a_notification_reads_as_the_transfer_with_our_payment_code_and_utc_time():
    transfer = read(BY_KEY, _body())
    assert (transfer.credit, transfer.amount, transfer.payment_code) == (True, vnd(200_000), "GW7K2M9Q4XAB")
    assert transfer.booked_at == datetime(2026, 12, 7, 2, 15, 2, tzinfo=UTC)
    assert (transfer.bank, transfer.bank_reference, transfer.feed_id) == ("Vietcombank", "MBVCB.3278907687", "92704")
    assert transfer.delivery_key == "bank:stp-vcb:92704"


def test_the_code_the_feed_detected_is_used_when_the_memo_lost_it():
    transfer = read(BY_KEY, _body(code="GW7K2M9Q4XAB", content="CT tu 0011004123456 NGUYEN VAN A"))
    assert transfer.payment_code == "GW7K2M9Q4XAB"
    assert read(BY_KEY, _body(content="CT tu 0011004123456 NGUYEN VAN A")).payment_code is None


def test_an_api_key_connection_takes_only_its_key():
    authenticate(BY_KEY, {"authorization": f"Apikey {BY_KEY.api_key}"}, _body())
    for headers in ({}, {"Authorization": "Apikey wrong"}, {"Authorization": f"Bearer {BY_KEY.api_key}x"}):
        with pytest.raises(BankNotificationRejected) as refused:
            authenticate(BY_KEY, headers, _body())
        assert refused.value.code == "bank_notification_unauthenticated"


def test_an_hmac_connection_takes_only_a_signature_of_the_exact_body():
    body = _body()
    signature = hmac.new(BY_HMAC.hmac_secret.encode(), body, hashlib.sha256).hexdigest()
    authenticate(BY_HMAC, {"X-SePay-Signature": signature}, body)
    authenticate(BY_HMAC, {"x-sepay-signature": "sha256=" + signature.upper()}, body)
    with pytest.raises(BankNotificationRejected):
        authenticate(BY_HMAC, {"X-SePay-Signature": signature}, body + b" ")
    with pytest.raises(BankNotificationRejected):
        authenticate(BY_HMAC, {"Authorization": f"Apikey {signature}"}, body)


def test_a_connection_has_exactly_one_way_to_authenticate():
    with pytest.raises(ValueError):
        BankConnection("x", "1")
    with pytest.raises(ValueError):
        BankConnection("x", "1", api_key="k", hmac_secret="s")


@pytest.mark.parametrize("field, value", [
    ("transferAmount", 200000.0), ("transferAmount", "200000"), ("transferAmount", 0), ("transferAmount", -5),
    ("transferAmount", True), ("transferAmount", 10**14), ("transferType", "IN"), ("transactionDate", "07/12/2026"),
    ("transactionDate", None), ("id", None), ("id", True), ("id", "x" * 65), ("id", "a b"), ("gateway", ""),
    ("content", 12), ("content", "a\x00b"), ("content", "x" * 1001), ("referenceCode", ["MBVCB"]),
])
def test_a_field_out_of_shape_is_refused_and_named(field, value):
    with pytest.raises(BankNotificationRejected) as refused:
        read(BY_KEY, _body(**{field: value}))
    assert refused.value.code == "bank_notification_invalid" and refused.value.details == {"field": field}


@pytest.mark.parametrize("raw", [b"", b"[]", b"{", b"\xff\xfe", b"[" * 5000 + b"]" * 5000, b'"text"'])
def test_a_body_that_is_not_a_json_object_is_refused(raw):
    with pytest.raises(BankNotificationRejected) as refused:
        read(BY_KEY, raw)
    assert refused.value.details == {"field": "body"}


def test_a_notification_for_another_account_is_refused():
    with pytest.raises(BankNotificationRejected) as refused:
        read(BY_KEY, _body(accountNumber="9999999999"))
    assert refused.value.code == "bank_notification_wrong_account"


def test_an_outgoing_transfer_reads_as_a_debit():
    assert read(BY_KEY, _body(transferType="out")).credit is False


@given(st.dictionaries(st.sampled_from(sorted(NOTIFICATION)), st.none() | st.booleans() | st.integers()
                       | st.floats(allow_nan=False) | st.text(max_size=40)))
def test_whatever_the_fields_hold_the_answer_is_a_transfer_or_a_refusal_never_a_crash(changes):
    try:
        transfer = read(BY_KEY, _body(**changes))
    except BankNotificationRejected:
        return
    assert transfer.amount.amount > 0 and transfer.booked_at.tzinfo is UTC
