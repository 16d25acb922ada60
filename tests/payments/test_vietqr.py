"""VietQR payloads: the published NAPAS samples read back, ours built field by field, any damage refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import vnd
from payments.errors import VietQrInvalid
from payments.vietqr import DYNAMIC, STATIC, TO_ACCOUNT, TO_CARD, Beneficiary, crc16, payment_payload, read

# Published samples whose CRC the research notes checked by hand (rails-parking.md, C3).
DYNAMIC_SAMPLE = ("00020101021238530010A0000007270123000697041601092245284790208QRIBFTTA53037045405100005802VN"
                  "62340107NPS68690819TRANSFER TO SOMEONE6304AC13")  # github.com/duyquoc1508/napas-qr
STATIC_SAMPLE = ("00020101021138480010A00000072701300006970403011621129950446040255204581253037045802VN"
                 "5910PHUONG CAC6005HANOI62110307NPS686963045802")  # github.com/liopayvn/vietqr-php


@pytest.mark.parametrize("sample", [DYNAMIC_SAMPLE, STATIC_SAMPLE], ids=["dynamic", "static"])
def test_the_checksum_of_each_published_sample_is_the_one_printed(sample):
    assert crc16(sample[:-4]) == sample[-4:]


def test_the_published_dynamic_sample_reads_as_ten_thousand_dong_to_an_acb_account():
    qr = read(DYNAMIC_SAMPLE)
    assert (qr.initiation, qr.beneficiary.bank_bin, qr.beneficiary.account) == (DYNAMIC, "970416", "224528479")
    assert (qr.amount, qr.purpose) == (vnd(10_000), "TRANSFER TO SOMEONE")


def test_the_published_static_sample_has_no_amount_and_no_purpose():
    qr = read(STATIC_SAMPLE)
    assert (qr.initiation, qr.beneficiary.bank_bin, qr.amount, qr.purpose) == (STATIC, "970403", None, None)


def test_a_payment_payload_is_the_napas_fields_in_order_with_its_checksum_last():
    payload = payment_payload(Beneficiary("970416", "224528479", "SO TU PHAP"), vnd(200_000), "GW7K2M9Q4XAB")
    body = ("000201" "010212" "3853" "0010A000000727" "0123" "0006970416" "0109224528479" "0208QRIBFTTA"
            "5303704" "5406200000" "5802VN" "6216" "0812GW7K2M9Q4XAB" "6304")
    assert payload == body + crc16(body)


def test_a_napas_card_number_is_sent_as_a_transfer_to_a_card():
    assert Beneficiary("970436", "9704366614952000").service == TO_CARD
    assert Beneficiary("970436", "0071000888888").service == TO_ACCOUNT


@pytest.mark.parametrize("bank_bin, account", [("97041", "1"), ("97041a", "1"), ("970416", ""),
                                               ("970416", "1" * 20), ("970416", "12-34")])
def test_a_beneficiary_out_of_shape_is_refused(bank_bin, account):
    with pytest.raises(VietQrInvalid):
        Beneficiary(bank_bin, account)


@pytest.mark.parametrize("amount, purpose", [(vnd(0), "GW7K2M9Q4XAB"), (vnd(-1000), "GW7K2M9Q4XAB"),
                                             (vnd(1000), ""), (vnd(1000), "X" * 20), (vnd(1000), "Lệ phí")])
def test_an_amount_or_purpose_a_bank_app_cannot_take_is_refused(amount, purpose):
    with pytest.raises(VietQrInvalid):
        payment_payload(Beneficiary("970416", "224528479"), amount, purpose)


bins = st.text("0123456789", min_size=6, max_size=6)
accounts = st.text("0123456789ABCDEFGHJK", min_size=1, max_size=19)
amounts = st.integers(min_value=1, max_value=10**13)
purposes = st.text("ABCDEFGHJKMNPQRSTVWXYZ0123456789 ", min_size=1, max_size=19)


@given(bins, accounts, amounts, purposes)
def test_every_payload_we_build_reads_back_as_what_we_asked_for(bank_bin, account, amount, purpose):
    qr = read(payment_payload(Beneficiary(bank_bin, account), vnd(amount), purpose))
    assert (qr.initiation, qr.beneficiary.bank_bin, qr.beneficiary.account) == (DYNAMIC, bank_bin, account)
    assert (qr.amount, qr.purpose) == (vnd(amount), purpose)


@given(bins, accounts, amounts, purposes, st.data())
def test_any_one_character_changed_is_refused(bank_bin, account, amount, purpose, data):
    payload = payment_payload(Beneficiary(bank_bin, account), vnd(amount), purpose)
    at = data.draw(st.integers(min_value=0, max_value=len(payload) - 1))
    other = data.draw(st.sampled_from("0123456789ABCDEFX ").filter(lambda c: c != payload[at].upper()))
    with pytest.raises(VietQrInvalid):
        read(payload[:at] + other + payload[at + 1:])


@pytest.mark.parametrize("payload", ["", "6304", "000201" + "6304" + crc16("0002016304"),
                                     "0002010102129999" + "6304" + crc16("00020101021299996304")])
def test_a_payload_without_a_napas_beneficiary_or_with_a_field_past_its_end_is_refused(payload):
    with pytest.raises(VietQrInvalid):
        read(payload)
