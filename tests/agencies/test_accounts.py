"""Agencies' receiving accounts: set and replace, each field's rule with its error, the audit row, bank names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from agencies import accounts
from agencies.banks import bank_name
from agencies.errors import AgencyAccountInvalid
from agencies.models import AgencyAccount
from core.clock import FixedClock
from identity.models import AuditEvent

GOOD = {"bank_bin": "970436", "account_number": "0011001234567", "holder_name": "CONG AN THANH PHO HA NOI"}


@pytest.fixture()
def clock():
    return FixedClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))


def put(db, clock, agency_code="HN-CA", **changes):
    return accounts.set_receiving_account(db, agency_code, **{**GOOD, **changes}, actor="staff:1", clock=clock)


def audit_rows(db):
    return list(db.scalars(select(AuditEvent).where(AuditEvent.event == "agency_account_set")
                           .order_by(AuditEvent.id)))


def test_a_set_account_is_read_back_with_its_bank_name(db, clock):
    made = put(db, clock)
    found = accounts.receiving_account(db, "HN-CA")
    assert made == found
    assert (found.agency_code, found.bank_bin, found.account_number, found.holder_name, found.bank_name) == (
        "HN-CA", "970436", "0011001234567", "CONG AN THANH PHO HA NOI", "Vietcombank")
    assert found.updated_by == "staff:1" and found.updated_at == clock.now()


def test_an_agency_without_an_account_has_none(db, clock):
    put(db, clock)
    assert accounts.receiving_account(db, "HCM-CA") is None


def test_setting_again_replaces_the_one_row_and_audits_what_it_replaced(db, clock):
    put(db, clock)
    clock.advance(hours=1)
    replaced = put(db, clock, bank_bin="970418", account_number="12010000123456", holder_name="CONG AN HA NOI")
    assert db.scalar(select(func.count()).select_from(AgencyAccount)
                     .where(AgencyAccount.agency_code == "HN-CA")) == 1
    assert accounts.receiving_account(db, "HN-CA") == replaced
    assert (replaced.bank_name, replaced.account_number, replaced.updated_at) == ("BIDV", "12010000123456",
                                                                                  clock.now())
    created, changed = audit_rows(db)
    assert created.actor == changed.actor == "staff:1" and changed.target == "agency:HN-CA"
    assert created.details["previous"] is None
    assert changed.details["previous"] == GOOD and changed.details["bank_bin"] == "970418"


def test_saving_the_same_account_again_changes_and_audits_nothing(db, clock):
    first = put(db, clock)
    clock.advance(hours=1)
    assert put(db, clock, holder_name="Cong an thanh pho Ha Noi") == first
    assert len(audit_rows(db)) == 1


def test_every_account_is_listed_by_agency_code(db, clock):
    put(db, clock, "HN-CA")
    put(db, clock, "DEMO-STP")
    put(db, clock, "HCM-CA")
    assert [a.agency_code for a in accounts.list_receiving_accounts(db)] == ["DEMO-STP", "HCM-CA", "HN-CA"]


@pytest.mark.parametrize(("field", "value"), [
    ("agency_code", ""), ("agency_code", "   "), ("agency_code", "X" * 51), ("agency_code", "HN\nCA"),
    ("bank_bin", ""), ("bank_bin", "97043"), ("bank_bin", "9704360"), ("bank_bin", "97O436"), ("bank_bin", "٩٧٠٤٣٦"),
    ("account_number", ""), ("account_number", "0011-0012"), ("account_number", "1" * 20),
    ("account_number", "001.100"), ("account_number", "SỐ123"),
    ("holder_name", ""), ("holder_name", "   "), ("holder_name", "A" * 51), ("holder_name", "CONG AN, HA NOI"),
    ("holder_name", "SỞ TƯ PHÁP & CO"), ("holder_name", "北京"),
])
def test_each_field_that_breaks_its_rule_is_refused_by_name_and_nothing_is_written(db, clock, field, value):
    values = {"agency_code": "HN-CA", **GOOD, field: value}
    agency_code = values.pop("agency_code")
    with pytest.raises(AgencyAccountInvalid) as refused:
        accounts.set_receiving_account(db, agency_code, **values, actor="staff:1", clock=clock)
    assert refused.value.code == "agency_account_invalid"
    assert refused.value.details["field"] == field and list(refused.value.details["fields"]) == [field]
    assert db.scalar(select(func.count()).select_from(AgencyAccount)) == 0
    assert audit_rows(db) == []


def test_every_bad_field_is_named_at_once(db, clock):
    with pytest.raises(AgencyAccountInvalid) as refused:
        accounts.set_receiving_account(db, "HN-CA", bank_bin="1", account_number="", holder_name="!",
                                       actor="staff:1", clock=clock)
    assert refused.value.details["field"] == "bank_bin"
    assert set(refused.value.details["fields"]) == {"bank_bin", "account_number", "holder_name"}


def test_a_refused_replacement_keeps_the_account_there_was(db, clock):
    put(db, clock)
    with pytest.raises(AgencyAccountInvalid):
        put(db, clock, bank_bin="12345")
    assert accounts.receiving_account(db, "HN-CA").bank_bin == "970436"


def test_vietnamese_and_lower_case_holder_names_are_saved_as_the_bank_registers_them(db, clock):
    saved = put(db, clock, holder_name="  Công an  Thành phố Hà Nội ")
    assert saved.holder_name == "CONG AN THANH PHO HA NOI"
    assert put(db, clock, "DEMO-STP", holder_name="Sở Tư pháp Đà Nẵng").holder_name == "SO TU PHAP DA NANG"


def test_spaces_around_values_and_inside_the_account_number_are_dropped(db, clock):
    saved = put(db, clock, " HN-CA ", bank_bin=" 970436 ", account_number=" 0011 0012 34567 ")
    assert (saved.agency_code, saved.bank_bin, saved.account_number) == ("HN-CA", "970436", "0011001234567")


def test_letters_are_allowed_in_an_account_number(db, clock):
    assert put(db, clock, account_number="SOTUPHAPHN01").account_number == "SOTUPHAPHN01"


def test_a_known_bin_shows_the_banks_short_name_and_an_unknown_one_the_bin_itself(db, clock):
    assert [bank_name(b) for b in ("970415", "970405", "970422", "970407", "970423")] == [
        "VietinBank", "Agribank", "MB", "Techcombank", "TPBank"]
    unknown = put(db, clock, bank_bin="970999")
    assert unknown.bank_name == "970999"
