"""The VNPay 2.1.0 protocol: the published hash vectors, the URL, IPN checks, amounts, times and order info."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import vnd
from payments import vnpay_protocol as vnpay

# lehuygiang28/vnpay's fixtures (rails-parking.md, C1): a successful IPN signed with "test_secret".
IPN = {"vnp_Amount": "1000000", "vnp_BankCode": "NCB", "vnp_BankTranNo": "VNP14422574", "vnp_CardType": "ATM",
       "vnp_OrderInfo": "Thanh toan don hang 2024-05-21T02:17:31.249Z", "vnp_PayDate": "20240521091806",
       "vnp_ResponseCode": "00", "vnp_TmnCode": "TEST_TMN_CODE", "vnp_TransactionNo": "14422574",
       "vnp_TransactionStatus": "00", "vnp_TxnRef": "1716257871703"}
IPN_HASH = ("649982421beb422556a1374713c74e58e716ecbd05007c0c0e1f7effdfaf361d"
            "bf146889ca446139afe11b9954c4d5c486e99e3b86fcfab6957f29eb0be72895")
FAILED_IPN_HASH = ("503194f6d93b57b357b2d1d09742565e67e86d771352c5dca4fc8d39df3d392c"
                   "6b3809add9405f97cfb9631f445e36c80656cfbf47eac67d97fa165865c13e1b")


def test_the_published_ipn_vectors_hash_to_their_published_values():
    assert vnpay.hash_data(IPN) == (
        "vnp_Amount=1000000&vnp_BankCode=NCB&vnp_BankTranNo=VNP14422574&vnp_CardType=ATM&vnp_OrderInfo=Thanh+toan"
        "+don+hang+2024-05-21T02%3A17%3A31.249Z&vnp_PayDate=20240521091806&vnp_ResponseCode=00&vnp_TmnCode="
        "TEST_TMN_CODE&vnp_TransactionNo=14422574&vnp_TransactionStatus=00&vnp_TxnRef=1716257871703")
    assert vnpay.sign(IPN, "test_secret") == IPN_HASH
    assert vnpay.sign({**IPN, "vnp_ResponseCode": "99"}, "test_secret") == FAILED_IPN_HASH


def test_the_published_url_vector_hashes_to_its_published_value():
    params = {"vnp_Amount": "10000", "vnp_OrderInfo": "Payment for order #1234567890", "vnp_TnxRef": "1234567890"}
    assert vnpay.sign(params, "YOUR_SECURE_SECRET") == (
        "7bb8160a5d2085a85b3267817a40ee4f770a335282f19714726e6fc6f28a64c7"
        "5a1e7e9c1aa96f3cbda5ce44095088fb4cb2af66c596d2f655b0b53966312089")


def test_an_ipn_is_verified_only_with_its_own_hash_in_any_case_and_without_the_hash_fields():
    signed = {**IPN, "vnp_SecureHash": IPN_HASH.upper(), "vnp_SecureHashType": "HmacSHA512", "other": "x"}
    assert vnpay.verify(signed, "test_secret")
    assert not vnpay.verify({**signed, "vnp_Amount": "100000000"}, "test_secret")
    assert not vnpay.verify(signed, "another_secret")
    assert not vnpay.verify(IPN, "test_secret")  # no hash at all


def test_empty_fields_are_not_signed_and_the_url_carries_what_was_signed():
    params = {"vnp_Version": vnpay.VERSION, "vnp_Command": "pay", "vnp_TmnCode": "DEMOV210", "vnp_BankCode": "",
              "vnp_Amount": vnpay.vnp_amount(vnd(200_000)), "vnp_OrderInfo": "Le phi LLTP GW7K2M9Q4XAB"}
    url = vnpay.payment_url("https://sandbox.vnpayment.vn/paymentv2/vpcpay.html", params, "s3cret")
    sent = dict(parse_qsl(urlsplit(url).query))
    assert "vnp_BankCode" not in sent and sent["vnp_Amount"] == "20000000"
    keys = list(sent)
    assert keys[-1] == "vnp_SecureHash" and keys[:-1] == sorted(keys[:-1])
    assert vnpay.verify(sent, "s3cret")


def test_amounts_are_dong_times_a_hundred_and_a_fraction_of_a_dong_is_refused():
    assert vnpay.vnp_amount(vnd(10_000)) == "1000000" and vnpay.parse_amount("1000000") == vnd(10_000)
    for value in ("1000050", "-100", "", "1e6", "10.00"):
        with pytest.raises(vnpay.VnpayProtocolError):
            vnpay.parse_amount(value)
    with pytest.raises(vnpay.VnpayProtocolError):
        vnpay.vnp_amount(vnd(0))


def test_times_are_vietnam_wall_time_and_come_back_as_utc():
    moment = datetime(2026, 12, 6, 20, 30, 5, tzinfo=UTC)
    assert vnpay.vnp_time(moment) == "20261207033005"
    assert vnpay.parse_time("20261207033005") == moment
    with pytest.raises(vnpay.VnpayProtocolError):
        vnpay.parse_time("2026-12-07")


def test_order_info_is_vietnamese_without_marks_or_symbols():
    assert vnpay.order_info("Lệ phí cấp Phiếu lý lịch tư pháp — Đà Nẵng #GW7K2M9Q4XAB") == (
        "Le phi cap Phieu ly lich tu phap Da Nang GW7K2M9Q4XAB")


@given(st.dictionaries(st.sampled_from(["vnp_Amount", "vnp_TxnRef", "vnp_OrderInfo", "vnp_PayDate", "vnp_x"]),
                       st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)),
       st.text(min_size=1, max_size=20))
def test_whatever_is_signed_verifies_and_any_changed_field_does_not(params, secret):
    signed = {**params, "vnp_SecureHash": vnpay.sign(params, secret)}
    assert vnpay.verify(signed, secret)
    for name, value in params.items():
        if value:
            assert not vnpay.verify({**signed, name: value + "0"}, secret)


def test_the_ipn_answers_are_the_codes_vnpay_expects():
    assert vnpay.ipn_answer(vnpay.IPN_ALREADY_CONFIRMED) == {"RspCode": "02", "Message": "Order already confirmed"}
    assert {vnpay.IPN_CONFIRMED, vnpay.IPN_ORDER_NOT_FOUND, vnpay.IPN_WRONG_AMOUNT, vnpay.IPN_BAD_CHECKSUM,
            vnpay.IPN_OTHER} == {"00", "01", "04", "97", "99"}


def test_querydr_hashes_its_fields_in_order_with_missing_ones_empty():
    values = {"vnp_RequestId": "r1", "vnp_Version": "2.1.0", "vnp_Command": "querydr", "vnp_TmnCode": "T"}
    expected = hmac.new(b"k", b"r1|2.1.0|querydr|T|||||", hashlib.sha512).hexdigest()
    assert vnpay.pipe_hash(values, vnpay.QUERYDR_REQUEST, "k") == expected
