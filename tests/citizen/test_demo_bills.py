"""Demo bills: priced by the subsidies engine for the stand-in's citizens, seeded once."""

from __future__ import annotations

from sqlalchemy import func, select

from citizen.demo_bills import DEMO_BILLS, seed_demo_bills, seed_from_settings
from core.geography import seed_provinces
from payments.models.billing import Bill
from subsidies.seed import seed_catalogue, seed_rules
from tests.conftest import make_test_settings
from web.identity_runtime import get_identity


def _seed_reference(db) -> None:
    seed_provinces(db)
    seed_catalogue(db)
    seed_rules(db)


def test_demo_bills_are_priced_with_the_agencys_facts_and_seeded_once(app, db):
    _seed_reference(db)
    vault = get_identity(app).vault
    assert seed_demo_bills(db, vault) == len(DEMO_BILLS)
    assert seed_demo_bills(db, vault) == 0
    bills = {b.agency_reference: b for b in db.scalars(select(Bill))}
    assert {ref: b.amount_due for ref, b in bills.items()} == {"LLTP-HN-DEMO-0001": 200_000,
                                                               "LLTP-HCM-DEMO-0001": 200_000,
                                                               "LLTP-HN-DEMO-0002": 200_000}
    hanoi = bills["LLTP-HN-DEMO-0001"]
    assert hanoi.payer_id_hash == vault.lookup_hash("001085012345") and hanoi.payer_masked_id == "0010******45"
    assert hanoi.explanation["request"]["eid_level"] is None  # proven only by the e-ID login
    assert hanoi.explanation["decision_day"] == "2025-12-15" and hanoi.rule_set_hash


def test_no_demo_bills_without_the_stand_in(app, db, tmp_path, database_url):
    _seed_reference(db)
    settings = make_test_settings(tmp_path, database_url, dev_idp_enabled=False)
    assert seed_from_settings(db, settings) == 0
    assert db.scalar(select(func.count()).select_from(Bill)) == 0
