"""Remittance rules as data: deadlines (24 hours, the 5th of the next month in Vietnam), budget codes, the Treasury."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.clock import VIETNAM
from payments.remittance_rules import (
    UNASSIGNED,
    RulesInvalid,
    fold,
    load_rules,
    months_between,
    statement_ledger_account,
)

RULES = load_rules()


def _vn(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=VIETNAM).astimezone(UTC)


@pytest.mark.parametrize(("month", "overdue_from"), [
    (date(2026, 3, 1), _vn(2026, 4, 6)),     # March's money is due by the end of 5 April
    (date(2026, 1, 1), _vn(2026, 2, 6)),
    (date(2026, 12, 1), _vn(2027, 1, 6)),    # December: the 5th of January of the next year
    (date(2027, 2, 1), _vn(2027, 3, 6)),
])
def test_a_month_is_due_by_the_end_of_the_5th_of_the_next_month_in_vietnam(month, overdue_from):
    rule = RULES.deadline_rule("HN-CA")
    assert rule.name == "previous_month_by_the_5th" and rule.verify
    assert rule.month_deadline(month) == overdue_from
    # 00:00 on the 6th in Hà Nội is 17:00 UTC on the 5th: the UTC date alone would be a day wrong.
    assert overdue_from.hour == 17 and overdue_from.day == 5


def test_money_on_another_organisations_account_is_due_24_hours_after_collection():
    rule = RULES.deadline_rule("DEMO-STP")
    assert rule.name == "forwarded_within_24_hours" and "74/2022" in rule.legal_basis
    # Collected at 23:30 on 31 December in Hà Nội: due at 23:30 on 1 January, across the year end.
    collected = _vn(2026, 12, 31, 23, 30)
    assert rule.collection_deadline(collected) == _vn(2027, 1, 1, 23, 30)
    assert rule.month_deadline(date(2026, 12, 1)) is None


def test_an_agency_not_in_the_file_holds_money_on_its_own_account_and_has_no_budget_code():
    assert RULES.deadline_rule("XX-UNKNOWN").name == "previous_month_by_the_5th"
    assert RULES.budget_code("XX-UNKNOWN", "LLTP") == UNASSIGNED


def test_a_budget_code_is_the_agencys_chapter_and_the_services_sub_item():
    assert RULES.budget_code("HN-CA", "LLTP") == "418-2557"
    assert RULES.budget_code("HN-CA", "PARKING_HN") == UNASSIGNED


@pytest.mark.parametrize(("texts", "expected"), [
    (("Nộp NSNN tại Kho bạc Nhà nước Hà Nội",), True),
    (("CT DEN KHO BAC NHA NUOC QUAN HOAN KIEM",), True),
    (("NOP TIEN VAO KBNN HA NOI",), True),
    (("chuyen tien", "Kho bạc Nhà nước Hà Nội 7111.0.1053412"), True),
    (("TK thu 7111.0.1053412 chuong 418",), True),
    (("PHI DICH VU SMS BANKING",), False),
    (("HOAN TIEN 17111010534120 CHO KHACH",), False),   # digits inside an amount are not an account
    (("STRIPE PAYOUT po_1", None), False),
])
def test_a_treasury_transfer_is_recognised_by_name_or_account(texts, expected):
    assert RULES.names_treasury(*texts) is expected


def test_folding_removes_diacritics_and_the_d_stroke():
    assert fold("Kho bạc Nhà nước, Đống Đa") == "KHO BAC NHA NUOC, DONG DA"


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)),
       st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)))
def test_months_between_are_the_consecutive_first_days(a, b):
    first, last = min(a, b), max(a, b)
    months = months_between(first, last)
    assert months[0] == first.replace(day=1) and months[-1] == last.replace(day=1)
    assert all(m.day == 1 for m in months)
    assert len(months) == (last.year - first.year) * 12 + last.month - first.month + 1


def test_a_rule_file_without_a_deadline_or_legal_basis_is_refused(tmp_path: Path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("deadline_rules:\n  - {name: x, hours_after_collection: 24, day_of_following_month: 5,"
                   " legal_basis: y}\n", encoding="utf-8")
    with pytest.raises(RulesInvalid, match="exactly one"):
        load_rules(bad)
    bad.write_text("deadline_rules:\n  - {name: x, hours_after_collection: 24}\n", encoding="utf-8")
    with pytest.raises(RulesInvalid, match="legal_basis"):
        load_rules(bad)


def test_a_statement_account_is_booked_as_its_agencys_ledger_account_so_payouts_and_remittances_meet():
    assert statement_ledger_account("0011004123456").code == "bank:HN-CA"
    assert statement_ledger_account("3591-0-1053412").code == "treasury_awaiting:HN-CA"  # digits compared
    assert statement_ledger_account("9999000111").code == "bank:9999000111"  # not in the rules: by its number
