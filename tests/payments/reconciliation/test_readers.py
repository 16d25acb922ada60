"""Report readers against real sample files and our own VN-layout samples.

``fixtures/samples/`` holds byte-for-byte copies of public sample statements (sources and licences in its
SOURCES.md). The expectations come from that file, written by the people who collected them: entry
counts, which statements reconcile, and each file's oddities.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from payments.reconciliation.parsed import ImportRejected, sha256_of
from payments.reconciliation.readers import read_report
from payments.reconciliation.vnpay_settlement import VnpayMapping

OURS = Path(__file__).parent / "fixtures"
SHARED = OURS / "samples"


def _shared(relative: str) -> bytes:
    return (SHARED / relative).read_bytes()


@pytest.mark.parametrize(("name", "statements", "entries", "reconciles"), [
    ("fffs-FI_camt_053_sample.xml", 1, 10, [True]),
    ("genkgo-camt053.v2.multi.statement.xml", 2, 2, [True, True]),
    ("genkgo-camt053.v8.xml", 1, 1, [False]),  # four balances in four currencies
    ("postfinance-camt.053_P_CH2909000000250094239_1110092698_0_2020112503071366.xml", 1, 5, [False]),
])
def test_camt053_samples_are_read_with_their_balances(name, statements, entries, reconciles):
    parsed = read_report(_shared(f"camt053/{name}"), "camt053")
    assert len(parsed.statements) == statements
    assert sum(len(s.lines) for s in parsed.statements) == entries
    assert [s.reconciles() for s in parsed.statements] == reconciles
    text_lines = _shared(f"camt053/{name}").decode().splitlines()
    assert all("Ntry>" in text_lines[line.row - 1] for s in parsed.statements for line in s.lines)


def test_camt053_reads_amounts_exactly_and_signs_debits():
    first, second = read_report(_shared("camt053/genkgo-camt053.v2.multi.statement.xml"), "camt053").statements
    assert (first.lines[0].amount, first.lines[0].currency) == (885, "EUR")
    assert second.lines[0].amount == -700
    assert second.lines[0].counterparty == "Company Name 2"


def test_camt053_v8_booking_datetime_with_offset_is_read():
    line = read_report(_shared("camt053/genkgo-camt053.v8.xml"), "camt053").statements[0].lines[0]
    assert line.booked_on == date(2014, 12, 31) and line.value_on == date(2015, 1, 2)


def test_camt053_keeps_shared_bank_references_for_dedupe_to_judge():
    lines = read_report(_shared("camt053/postfinance-camt.053_P_CH2909000000250094239_1110092698_0_"
                                "2020112503071366.xml"), "camt053").statements[0].lines
    references = [line.bank_reference for line in lines]
    assert references.count("07582000303KBMSU") == 2
    assert any("ZAHLUNGSEMPFÄNGERS" in line.description for line in lines)


@pytest.mark.parametrize(("name", "statements", "entries", "all_reconcile"), [
    ("betterplace-sepa_mt9401.sta", 26, 97, True),   # RC reversals count as debits
    ("citi-mt940.txt", 1, 5, True),
    ("jejik-abnamro.sta", 2, 10, False),
    ("jejik-rabobank-iban.sta", 2, 4, True),
    ("php-mt940-btrl-sample.sta", 1, 2, False),
    ("php-mt940-hsbc-sample.sta", 1, 1, False),
])
def test_mt940_samples_are_split_into_statements(name, statements, entries, all_reconcile):
    parsed = read_report(_shared(f"mt940/{name}"), "mt940")
    assert len(parsed.statements) == statements
    assert sum(len(s.lines) for s in parsed.statements) == entries
    assert all(s.reconciles() for s in parsed.statements) is all_reconcile


def test_mt940_reversals_are_debits_and_rows_point_at_the_61_lines():
    content = _shared("mt940/betterplace-sepa_mt9401.sta")
    lines = [line for s in read_report(content, "mt940").statements for line in s.lines]
    reversals = [line for line in lines if line.reversal]
    assert len(reversals) == 2 and all(line.amount == -20488 for line in reversals)
    text_lines = content.decode().splitlines()
    assert all(text_lines[line.row - 1].startswith(":61:") for line in lines)


def test_mt940_crlf_file_reads_like_any_other():
    line = read_report(_shared("mt940/php-mt940-hsbc-sample.sta"), "mt940").statements[0].lines[0]
    assert (line.amount, line.currency) == (-2_000_000, "HKD")


def test_vietnamese_debit_credit_layout_with_payment_codes():
    statement = read_report((OURS / "vcb-sao-ke-debit-credit.csv").read_bytes(), "vn_bank").statements[0]
    assert statement.account == "0011004123456" and statement.currency == "VND"
    assert statement.reconciles() is True
    lines = statement.lines
    assert [(line.row, line.amount) for line in lines] == [(8, 200_000), (9, 100_000), (10, -5_500), (11, 8_000),
                                                           (12, 200_000)]
    assert [line.payment_code for line in lines] == ["GW7K2M9Q4XAB", "GW3P8R2T6V9C", None, "GW0000ABCD12", None]


def test_vietnamese_signed_layout_with_dot_thousands():
    parsed = read_report((OURS / "tcb-sao-ke-signed.csv").read_bytes(), "vn_bank")
    assert parsed.format == "vn_bank:signed"
    lines = parsed.statements[0].lines
    assert [line.amount for line in lines] == [200_000, -11_000, 8_000]
    assert lines[2].value_on == date(2026, 12, 4) and lines[2].payment_code == "GW5R7T9V1X4A"


def test_vietnamese_xlsx_export_reads_like_the_csv():
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Tài khoản:", "19035551234567"])
    sheet.append(["Số dư đầu kỳ:", 5_000_000])
    sheet.append(["STT", "Ngày giao dịch", "Ngày hiệu lực", "Mã giao dịch", "Mô tả", "Số tiền (+/-)", "Số dư"])
    sheet.append([1, date(2026, 12, 3), date(2026, 12, 3), "FT1", "GW5R7T9V1X3Z le phi", 200_000, 5_200_000.0])
    sheet.append([2, date(2026, 12, 3), date(2026, 12, 3), "FT2", "Phi", -11_000, 5_189_000])
    buffer = io.BytesIO()
    book.save(buffer)
    statement = read_report(buffer.getvalue(), "vn_bank").statements[0]
    assert [(line.row, line.amount, line.booked_on) for line in statement.lines] == [(4, 200_000, date(2026, 12, 3)),
                                                                        (5, -11_000, date(2026, 12, 3))]


def _rejection(content: bytes, format: str) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        read_report(content, format)
    return caught.value


def test_a_statement_that_does_not_add_up_is_rejected_at_its_row():
    content = (OURS / "vcb-sao-ke-debit-credit.csv").read_bytes().replace(b'"1,294,500"', b'"1,249,500"')
    error = _rejection(content, "vn_bank")
    assert error.row == 10 and "running balance" in error.reason


@pytest.mark.parametrize(("old", "new", "row", "reason"), [
    (b'"100,000","1,300,000"', b'"100,00.5","1,300,000"', 9, "not whole dong"),
    (b"02/12/2026,5213 - 40377", b"2026/12/02x,5213 - 40377", 11, "dd/mm/yyyy"),
    (b',"5,500",,', b',"5,500","5,500",', 10, "exactly one of"),
])
def test_a_malformed_vietnamese_line_rejects_the_whole_file(old, new, row, reason):
    content = (OURS / "vcb-sao-ke-debit-credit.csv").read_bytes()
    assert old in content
    error = _rejection(content.replace(old, new), "vn_bank")
    assert (error.row, reason in error.reason) == (row, True)


def test_xml_entity_expansion_is_refused():
    bomb = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>&b;</BkToCstmrStmt></Document>"""
    assert "unsafe" in _rejection(bomb, "camt053").reason


def test_xml_external_entities_are_refused():
    xxe = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Document><BkToCstmrStmt><Stmt>&x;</Stmt></BkToCstmrStmt></Document>"""
    assert "unsafe" in _rejection(xxe, "camt053").reason


def test_a_camt053_amount_with_too_many_decimals_is_rejected_at_its_entry():
    content = _shared("camt053/genkgo-camt053.v2.multi.statement.xml").replace(b">8.85<", b">8.855<", 1)
    error = _rejection(content, "camt053")
    assert "decimal places" in error.reason
    assert "<Ntry>" in content.decode().splitlines()[error.row - 1]


def test_truncated_mt940_is_rejected():
    assert _rejection(b"not a statement at all", "mt940").reason.startswith("no :20:")


def test_stripe_payout_report_in_major_units_with_our_codes():
    parsed = read_report((OURS / "stripe-payout-reconciliation-itemized.csv").read_bytes(), "stripe")
    assert parsed.format == "stripe_payout_reconciliation"
    first, _, refund = parsed.provider_lines
    assert (first.gross, first.fee, first.net, first.currency) == (200_000, 7_800, 192_200, "VND")
    assert first.payment_code == "GW7K2M9Q4XAB" and first.payout_id == "po_1QaC9zXyZ001"
    assert first.occurred_at.isoformat() == "2026-12-01T02:15:09+00:00"
    assert (refund.category, refund.net) == ("refund", -100_000)


def test_a_stripe_line_whose_net_does_not_add_up_is_rejected():
    content = (OURS / "stripe-payout-reconciliation-itemized.csv").read_bytes().replace(b"192200", b"192300")
    error = _rejection(content, "stripe")
    assert error.row == 2 and "net" in error.reason


def test_a_csv_that_is_not_a_stripe_report_names_the_missing_columns():
    assert "missing columns" in _rejection(b"a,b\n1,2\n", "stripe").reason


def test_vnpay_settlement_keeps_successful_rows_through_the_default_mapping():
    lines = read_report((OURS / "vnpay-settlement-sample.csv").read_bytes(), "vnpay").provider_lines
    assert [(line.row, line.provider_reference, line.gross, line.fee, line.payment_code) for line in lines] == [
        (4, "14712345", 200_000, 2_200, "GW5R7T9V1X3Z"), (5, "14712399", 8_000, 88, "GW5R7T9V1X4A")]
    assert lines[0].occurred_at.isoformat() == "2026-12-01T09:15:02+07:00"


def test_vnpay_mapping_is_configuration_and_rejects_unknown_keys():
    content = b"Txn,Ref,Amt,Time\n99,GW5R7T9V1X3Z,20000000,2026-12-01T09:15\n"
    mapping = VnpayMapping.from_dict({"transaction_no": "Txn", "txn_ref": "Ref", "amount": "Amt", "paid_at": "Time",
                                      "datetime_format": "%Y-%m-%dT%H:%M", "amount_divisor": 100})
    line = read_report(content, "vnpay", vnpay_mapping=mapping).provider_lines[0]
    assert (line.gross, line.payment_code) == (200_000, "GW5R7T9V1X3Z")
    with pytest.raises(ImportRejected):
        VnpayMapping.from_dict({"amount_column": "x"})


def test_unknown_formats_and_non_utf8_text_are_refused():
    from core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        read_report(b"x", "qif")
    assert "UTF-8" in _rejection(b"Ng\xe0y GD;Ghi n\xf4", "vn_bank").reason  # a legacy 8-bit export


def test_the_same_bytes_always_hash_the_same():
    content = (OURS / "vcb-sao-ke-debit-credit.csv").read_bytes()
    assert read_report(content, "vn_bank").sha256 == sha256_of(content) == read_report(content, "vn_bank").sha256
