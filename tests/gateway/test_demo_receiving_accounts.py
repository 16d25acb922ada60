"""The demo receiving accounts seeder: the demo agencies can be paid by VietQR, once, never in production."""

from __future__ import annotations

from types import SimpleNamespace

from agencies import accounts
from core.clock import SYSTEM_CLOCK
from core.settings import Settings
from gateway.seed import SEEDERS, _seed_demo_receiving_accounts


def test_every_demo_agency_gets_the_demo_account_once(db):
    assert _seed_demo_receiving_accounts(db) == 5
    assert _seed_demo_receiving_accounts(db) == 0
    seeded = {a.agency_code: a for a in accounts.list_receiving_accounts(db)}
    assert set(seeded) == {"HN-CA", "HCM-CA", "DEMO-STP", "HN-PARKING", "HCM-PARKING"}
    hanoi = seeded["HN-CA"]
    assert (hanoi.bank_name, hanoi.account_number, hanoi.holder_name) == (
        "Vietcombank", "0011001234567", "CONG AN THANH PHO HA NOI")
    assert _seed_demo_receiving_accounts in [seeder for _, seeder in SEEDERS]


def test_an_account_an_admin_set_is_never_replaced(db):
    accounts.set_receiving_account(db, "HN-CA", bank_bin="970418", account_number="12010000123456",
                                   holder_name="CONG AN HA NOI", actor="staff:1", clock=SYSTEM_CLOCK)
    assert _seed_demo_receiving_accounts(db) == 4
    assert accounts.receiving_account(db, "HN-CA").account_number == "12010000123456"


def test_production_gets_no_demo_account(db, monkeypatch):
    monkeypatch.setattr(Settings, "from_env", classmethod(lambda cls, *a, **k: SimpleNamespace(production=True)))
    assert _seed_demo_receiving_accounts(db) == 0
    assert accounts.list_receiving_accounts(db) == []
