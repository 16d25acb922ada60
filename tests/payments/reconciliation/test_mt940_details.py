"""MT940 ``:86:`` details split into purpose, end-to-end id and counterparty (issue 12).

German banks write ``:86:`` as a business-transaction code and ``?nn`` sub-fields (``?00`` posting text,
``?20``-``?29`` and ``?60``-``?63`` purpose, ``?30``-``?33`` the other party), and SEPA keywords inside the
purpose (``EREF+``, ``KREF+``, ``MREF+``, ``CRED+``, ``SVWZ+``, ``ABWA+`` …); Dutch banks write
``/EREF/…/REMI/…``. Before, an end-to-end id could hold ``KREF+``, a line break and the purpose, and
many descriptions were empty. The real samples are the judges.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.reconciliation.readers import read_report

SAMPLES = Path(__file__).parent / "fixtures" / "samples" / "mt940"
MT940_SAMPLES = sorted(p.name for p in SAMPLES.iterdir())


def _lines(name: str) -> list:
    return [line for s in read_report((SAMPLES / name).read_bytes(), "mt940").statements for line in s.lines]


def _by_reference(name: str) -> dict:
    return {line.bank_reference: line for line in _lines(name) if line.bank_reference}


@pytest.mark.parametrize("name", MT940_SAMPLES)
def test_no_sample_line_has_an_empty_description_or_a_broken_end_to_end_id(name):
    for line in _lines(name):
        assert line.description.strip(), line
        if line.end_to_end_id is not None:
            assert line.end_to_end_id == line.end_to_end_id.strip() and line.end_to_end_id
            assert "\n" not in line.end_to_end_id and "\r" not in line.end_to_end_id
            assert not any(key in line.end_to_end_id for key in ("KREF", "EREF", "SVWZ", "MTLG", "/"))
            assert line.end_to_end_id not in ("NONREF", "EREF")


def test_german_sepa_credit_gives_eref_alone_and_the_svwz_purpose_as_description():
    line = _by_reference("betterplace-sepa_mt9401.sta")["0724710290621954"]
    # ?20EREF+EndToEndIdTFNR20004000?2101?22SVWZ+TO 13 TFNr 20004 Einga?23ngskanal Mint …
    assert line.end_to_end_id == "EndToEndIdTFNR2000400001"
    assert line.description.startswith("TO 13 TFNr 20004 Eingangskanal Mint")
    assert "MTLG:SEPA-Ueberweisungseingang Auftraggeber: Richter Renat" in line.description
    assert "EREF" not in line.description and "SVWZ" not in line.description
    assert line.counterparty == "Richter Renate 70 Zeichen Beginn Fuellzeichen xxxxxxxx"
    assert line.counterparty_account == "DE42100100100043921105"


def test_a_kref_only_line_keeps_kref_out_of_the_end_to_end_id_and_the_purpose_in_the_description():
    line = _by_reference("betterplace-sepa_mt9401.sta")["BD7CFA74485E7E69"]
    # :61:…NTRFKREF+//BD7CFA74485E7E69 / :86:191?00SEPA-UEBERW?100399?20KREF+TFNr 01005 PayId CTSc-?2101 EBB?22MTLG…
    assert line.end_to_end_id is None
    assert line.description == "MTLG:SEPA-Ueberweisungsauftrag Datei mit 0000005 Zahlungen"


def test_a_return_keeps_the_eref_short_and_the_reason_as_description():
    line = next(line for line in _lines("betterplace-sepa_mt9401.sta") if line.bank_reference == "0724710345313905")
    # ?20EREF+TFNR 40005 00005?21MTLG:Grund nicht s⏎pezifizie?22rt Reject aus SEPA-Ueberwei?23sungsauftrag
    assert line.end_to_end_id == "TFNR 40005 00005"
    assert line.description == "MTLG:Grund nicht spezifiziert Reject aus SEPA-Ueberweisungsauftrag"


def test_an_eref_spread_over_two_subfields_is_joined_and_nonref_is_no_id():
    lines = _by_reference("betterplace-sepa_mt9401.sta")
    # ?20EREF+TFNR 21005 EndToEndId ?2100001?22KREF+TFNR 21005 Instruction?23 Id 00001?24SVWZ+Verwend CTSc-01 eB…
    debit = next(line for line in _lines("betterplace-sepa_mt9401.sta")
                 if line.bank_reference == "0724710352954937" and line.amount < 0)
    assert debit.end_to_end_id == "TFNR 21005 EndToEndId 00001"
    assert debit.description == "Verwend CTSc-01 eBB TFNr 21005"
    assert debit.counterparty == "Empfaenger Florian Frech UK 01"
    # ?20EREF+NONREF?21KREF+…?23SVWZ+Unstrukturierter Verwe?24ndungszweck mit…
    nonref = lines["0724710352996674"]
    assert nonref.end_to_end_id is None
    assert nonref.description.startswith("Unstrukturierter Verwendungszweck mit")


def test_a_collective_booking_without_keywords_describes_itself_with_its_purpose():
    (line,) = [line for line in _lines("betterplace-sepa_mt9401.sta") if line.amount == 6_629_508]
    assert line.description == "0904059001"  # 079?00SAMMLER?109800?200904059001


def test_a_line_with_posting_text_only_describes_itself_with_it():
    line = next(line for line in _lines("betterplace-sepa_mt9401.sta")
                if line.bank_reference == "R724710290656678")  # 116?00SEPA-UEBERW/STORNO?100399
    assert line.description == "SEPA-UEBERW/STORNO" and line.end_to_end_id is None


def test_dutch_slash_codes_give_eref_and_remi_not_the_eref_marker():
    first, second = _lines("jejik-rabobank-iban.sta")[:2]
    # :61:…N102EREF / :86:/EREF/01-01-2013 12:00 0030000987654321/BENM//NAME/CONTRA ACCOUN⏎T HOLDER/REMI//ISDT/…
    assert first.end_to_end_id == "01-01-2013 12:00 0030000987654321"
    assert first.counterparty == "CONTRA ACCOUNT HOLDER" and first.description == "CONTRA ACCOUNT HOLDER"
    assert second.end_to_end_id is None
    assert (second.description, second.counterparty) == ("Reference 201301234", "JOHN DOE")


def test_unstructured_details_read_as_before():
    (line,) = _lines("php-mt940-hsbc-sample.sta")
    assert line.description.startswith("/OCMT/USD2853,12/ PAYMENT OF INVOICES 204011665")
    assert line.end_to_end_id == "1004688128"  # the :61: reference, there being no EREF
    abn = _lines("jejik-abnamro.sta")[0]
    assert abn.description == ("GIRO 428428 KPN - DIGITENNE BETALINGSKENM. 000000042188659 5314606715 BETREFT "
                               "FACTUUR D.D. 20-05-2011 INCL. 1,44 BTW")


def _statement(details: str) -> bytes:
    # A second line whose :86: fills its first 65-character line, as most of a bank's lines do.
    return (":20:T1\n:25:0011004123456\n:28C:1/1\n:60F:C261130VND0,\n"
            f":61:2612011201C200000,NTRFNONREF//FT1\n:86:{details}\n"
            f":61:2612011201D1,NCHGNONREF//FT2\n:86:{_wrapped('PHI' * 30)}\n:62F:C261201VND199999,\n-\n").encode()


def _line(details: str):
    return read_report(_statement(details), "mt940").statements[0].lines[0]


def test_every_sepa_keyword_stays_out_of_the_description():
    line = _line("166?00GUTSCHRIFT?100399?20EREF+E2E-1?21KREF+K-1?22MREF+M-1?23CRED+DE98ZZZ09999999999"
                 "?24SVWZ+GW7K2M9Q4XAB le phi?25ABWA+Nguyen Van A?32Cong an Ha Noi")
    assert (line.end_to_end_id, line.description, line.counterparty) == ("E2E-1", "GW7K2M9Q4XAB le phi",
                                                                         "Cong an Ha Noi")
    assert line.payment_code == "GW7K2M9Q4XAB"


def test_sepa_keywords_without_subfields_are_split_too():
    line = _line("EREF+GW7K2M9Q4XAB-1 SVWZ+thanh toan le phi")
    assert (line.end_to_end_id, line.description) == ("GW7K2M9Q4XAB-1", "thanh toan le phi")


def _wrapped(text: str, width: int = 65) -> str:
    """A field as banks write it: cut every ``width`` characters, wherever that falls."""
    return "\n".join(text[i:i + width] for i in range(0, len(text), width))


def _subfields(first: int, value: str) -> str:
    """``value`` in 27-character ?nn sub-fields from ``?first`` on."""
    return "".join(f"?{first + i}{value[at:at + 27]}" for i, at in enumerate(range(0, len(value), 27)))


_WORD = st.text(alphabet="ABCDEFGHJKMNPQRSTVWXYZabcdefghijkmnopqrstuvwxyz0123456789-.:,", min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(eref=st.lists(_WORD, min_size=1, max_size=4).map(" ".join).filter(lambda e: len(e) <= 35),
       purpose=st.lists(_WORD, min_size=1, max_size=12).map(" ".join).filter(lambda p: len(p) <= 100))
def test_eref_and_purpose_come_back_whole_however_the_field_is_cut(eref, purpose):
    head = _subfields(20, f"EREF+{eref}")
    used = head.count("?")
    details = f"166?00GUTSCHRIFT?100399{head}{_subfields(20 + used, f'SVWZ+{purpose}')}?32Nguyen Van A"
    line = _line(_wrapped(details))
    assert (line.end_to_end_id, line.description, line.counterparty) == (eref, purpose, "Nguyen Van A")
