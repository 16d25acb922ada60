"""Opening balance + lines = closing balance, checked on import and shown with its numbers (issue 12).

A statement that does not add up is imported and flagged, not refused: its lines are movements the bank
booked, and a finance officer investigates the gap (a missing page, an entry value-dated the next day) with
the lines at hand. Each import result says, per statement: opening, sum of lines, closing, difference.
A balance in another currency than the account's is never compared as if it were in the account's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from payments.reconciliation.imports import import_report
from payments.reconciliation.models import ReportLine, ReportStatement
from payments.reconciliation.readers import read_report
from payments.reconciliation.statement_checks import balance_check

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = FIXTURES / "samples"
POSTFINANCE = "camt053/postfinance-camt.053_P_CH2909000000250094239_1110092698_0_2020112503071366.xml"


def _checks(name: str) -> list:
    format = "camt053" if name.endswith(".xml") else "mt940"
    parsed = read_report((SAMPLES / name).read_bytes(), format)
    return [balance_check(index, statement) for index, statement in enumerate(parsed.statements)]


@pytest.mark.parametrize("name", ["camt053/fffs-FI_camt_053_sample.xml",
                                  "camt053/genkgo-camt053.v2.multi.statement.xml",
                                  "mt940/betterplace-sepa_mt9401.sta", "mt940/citi-mt940.txt",
                                  "mt940/jejik-rabobank-iban.sta"])
def test_real_samples_that_reconcile_pass_the_check(name):
    checks = _checks(name)
    assert checks and all(c.status == "balanced" and c.difference == 0 for c in checks)
    assert all(c.opening + c.lines_total == c.closing for c in checks)


@pytest.mark.parametrize(("name", "opening", "lines_total", "closing", "difference"), [
    # SOURCES.md: CLBD = OPBD + entries - the CHF 1537.00 entry value-dated the next day.
    (POSTFINANCE, 21_199_319, 465_602, 21_511_221, -153_700),
    # 0 -> 0 despite RON 1398.79 of credits; 0 -> 0 despite one HKD 20000.00 debit.
    ("mt940/php-mt940-btrl-sample.sta", 0, 139_879, 0, -139_879),
    ("mt940/php-mt940-hsbc-sample.sta", 0, -2_000_000, 0, 2_000_000),
])
def test_real_samples_that_do_not_reconcile_are_flagged_with_their_numbers(name, opening, lines_total, closing,
                                                                          difference):
    (check,) = _checks(name)
    assert check.status == "unbalanced"
    assert (check.opening, check.lines_total, check.closing, check.difference) == (opening, lines_total, closing,
                                                                                   difference)


def test_abn_amro_statements_are_flagged_and_the_numbers_add_up_to_the_difference():
    checks = _checks("mt940/jejik-abnamro.sta")
    assert [c.status for c in checks] == ["unbalanced", "unbalanced"]
    assert all(c.difference == c.closing - (c.opening + c.lines_total) != 0 for c in checks)


def test_camt053_closing_balance_keeps_its_own_currency():
    content = (SAMPLES / "camt053/genkgo-camt053.v8.xml").read_bytes()
    (statement,) = read_report(content, "camt053").statements
    assert (statement.opening.amount, statement.opening.currency) == (1815, "EUR")
    assert (statement.closing.amount, statement.closing.currency) == (-2700, "SEK")  # CLBD SEK 27.00 debit
    assert statement.currency == "EUR"
    check = balance_check(0, statement)
    assert check.status == "currency_mismatch" and check.difference is None
    assert (check.closing_currency, check.currency) == ("SEK", "EUR")


def test_camt053_statement_currency_is_not_taken_from_the_closing_balance():
    # The v8 sample has no <Acct><Ccy>; with its CLBD (SEK) written before its OPBD (EUR) the statement
    # used to become a SEK statement with EUR lines.
    text = (SAMPLES / "camt053/genkgo-camt053.v8.xml").read_text()
    balances = re.findall(r"\s*<Bal>.*?</Bal>", text, flags=re.S)
    opening, closing = balances[0], balances[1]
    assert "OPBD" in opening and "CLBD" in closing
    swapped = text.replace(opening + closing, closing + opening)
    (statement,) = read_report(swapped.encode(), "camt053").statements
    assert statement.currency == "EUR" and statement.closing.currency == "SEK"


def _mt940(opening: int, movements: list[int], closing: int) -> bytes:
    """A VND MT940 statement; amounts in dong, signed (credit +)."""
    def mark(value: int) -> str:
        return "C" if value >= 0 else "D"

    lines = [":20:GW-TEST", ":25:0011004123456", ":28C:1/1", f":60F:{mark(opening)}261130VND{abs(opening)},"]
    for n, value in enumerate(movements):
        lines += [f":61:2612011201{mark(value)}{abs(value)},NTRFNONREF//FT{n:05d}", f":86:line {n}"]
    lines += [f":62F:{mark(closing)}261201VND{abs(closing)},", "-"]
    return ("\n".join(lines) + "\n").encode()


_DONG = st.integers(-10 ** 12, 10 ** 12)
_MOVEMENT = st.integers(1, 10 ** 10).flatmap(lambda v: st.sampled_from((v, -v)))


@settings(max_examples=80, deadline=None)
@given(opening=_DONG, movements=st.lists(_MOVEMENT, max_size=8), gap=st.integers(-10 ** 6, 10 ** 6))
def test_a_balanced_statement_always_passes_and_any_gap_is_the_difference(opening, movements, gap):
    closing = opening + sum(movements)
    (balanced,) = read_report(_mt940(opening, movements, closing), "mt940").statements
    check = balance_check(0, balanced)
    assert (check.status, check.difference, check.lines_total) == ("balanced", 0, sum(movements))
    (off,) = read_report(_mt940(opening, movements, closing + gap), "mt940").statements
    assert balance_check(0, off).difference == gap
    assert balance_check(0, off).status == ("balanced" if gap == 0 else "unbalanced")


def test_an_unbalanced_statement_is_imported_and_flagged_with_its_numbers(db):
    content = (FIXTURES / "same-day.mt940.sta").read_bytes()
    assert b":62F:C261202VND1302500," in content
    content = content.replace(b":62F:C261202VND1302500,", b":62F:C261202VND1300000,")
    result = import_report(db, content, "mt940", filename="short.sta", imported_by="officer:7")
    assert result.created and result.file.line_count == 4
    (check,) = result.balance_checks
    assert (check.status, check.opening, check.lines_total, check.closing, check.difference) == (
        "unbalanced", 1_000_000, 302_500, 1_300_000, -2_500)
    assert (check.account, check.currency) == ("0011004123456", "VND")
    assert result.unbalanced == (check,)
    stored = db.scalar(select(ReportStatement).where(ReportStatement.file_id == result.file.id))
    assert stored.reconciles is False and (stored.opening, stored.closing) == (1_000_000, 1_300_000)
    assert db.scalar(select(func.count()).select_from(ReportLine).where(ReportLine.file_id == result.file.id)) == 4
    # Importing the same bytes again adds nothing and says the same, from what was stored.
    again = import_report(db, content, "mt940", filename="again.sta", imported_by="officer:8")
    assert not again.created and again.balance_checks == result.balance_checks


def test_a_statement_that_adds_up_is_imported_unflagged(db):
    result = import_report(db, (FIXTURES / "same-day.camt053.xml").read_bytes(), "camt053", filename="ok.xml",
                           imported_by="officer:7")
    (check,) = result.balance_checks
    assert (check.status, check.difference, check.lines_total) == ("balanced", 0, 302_500)
    assert result.unbalanced == ()


def test_a_statement_without_balances_says_so():
    content = (FIXTURES / "same-day.camt053.xml").read_bytes()
    content = re.sub(rb"\s*<Bal>.*?</Bal>", b"", content, flags=re.S)
    (statement,) = read_report(content, "camt053").statements
    check = balance_check(0, statement)
    assert (check.status, check.difference, check.opening, check.closing) == ("no_balances", None, None, None)
    assert (check.lines_total, check.currency) == (302_500, "VND")
