"""Demo and reference data for the embedded default; every seeder is idempotent (a re-run adds nothing)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from core.geography import seed_provinces
from subsidies.seed import seed_catalogue, seed_rules
from web.runtime import DEV_BANK_ACCOUNT

#: (what it seeds, seeder returning how many rows it added). Later capabilities append theirs.
SEEDERS: list[tuple[str, Callable[[Session], int]]] = [
    ("provinces (QĐ 19/2025)", seed_provinces),
    ("fee catalogue, subsidy funds, beneficiary categories", seed_catalogue),
    ("fee and subsidy rules (subsidies/rules/*.yaml)", seed_rules),
]


def _seed_demo_staff(session: Session) -> int:
    """Demo staff (one per role) of the bundled VNeID stand-in, when it is the staff provider."""
    from core.settings import Settings
    from identity.devidp.seed import seed_demo_staff
    from web.identity_runtime import DEV_IDP_PATH

    settings = Settings.from_env()
    if settings.staff_oidc_issuer or not settings.dev_idp_enabled:
        return 0
    return seed_demo_staff(session, settings.base_url + DEV_IDP_PATH)


SEEDERS.append(("demo staff of the VNeID stand-in", _seed_demo_staff))


def _seed_demo_bills(session: Session) -> int:
    """Demo bills for the stand-in's demo citizens (see citizen/demo_bills.py)."""
    from citizen.demo_bills import seed_from_settings

    return seed_from_settings(session)


SEEDERS.append(("demo bills of the stand-in's citizens", _seed_demo_bills))


def _seed_demo_agency(session: Session) -> int:
    """The demo agency API client whose key is GATEWAY_DEMO_AGENCY_KEY (not in production)."""
    from web.agency_runtime import seed_demo_agency

    return seed_demo_agency(session)


SEEDERS.append(("demo agency API client", _seed_demo_agency))

#: Demo receiving accounts (agency code, holder) at Vietcombank (970436), all on the one account the built-in
#: ``dev-bank`` feed reports on (web.runtime.DEV_BANK_ACCOUNT), so every demo bill can be paid by VietQR end to
#: end: the demo bills' agencies (citizen/demo_bills.py), the demo agency's API client (web/agency_runtime.py) and
#: the demo parking operators.
DEMO_BANK_BIN, DEMO_ACCOUNT_NUMBER = "970436", DEV_BANK_ACCOUNT
DEMO_RECEIVING_ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("HN-CA", "CONG AN THANH PHO HA NOI"),
    ("HCM-CA", "CONG AN THANH PHO HO CHI MINH"),
    ("DEMO-STP", "SO TU PHAP HA NOI"),
    # The demo parking operators' agencies (parking.lots.SeedLots): a session's charge can be paid by VietQR.
    ("HN-PARKING", "CONG TY KHAI THAC DIEM DO XE HA NOI"),
    ("HCM-PARKING", "TRUNG TAM QUAN LY HA TANG GIAO THONG"),
)


def _seed_demo_receiving_accounts(session: Session) -> int:
    """A demo receiving account for each demo agency that has none (never in production, never replacing one)."""
    from agencies.accounts import receiving_account, set_receiving_account
    from core.clock import SYSTEM_CLOCK
    from core.settings import Settings

    if Settings.from_env().production:
        return 0
    added = 0
    for agency_code, holder in DEMO_RECEIVING_ACCOUNTS:
        if receiving_account(session, agency_code) is None:
            set_receiving_account(session, agency_code, bank_bin=DEMO_BANK_BIN, account_number=DEMO_ACCOUNT_NUMBER,
                                  holder_name=holder, actor="seed", clock=SYSTEM_CLOCK)
            added += 1
    return added


SEEDERS.append(("demo agencies' receiving accounts (VietQR)", _seed_demo_receiving_accounts))


def _seed_demo_parking(session: Session) -> int:
    """The demo parking operators and their lots in Hà Nội and HCMC (never in production)."""
    from core.clock import SYSTEM_CLOCK
    from core.settings import Settings
    from parking.lots import SeedLots, operator_by_code, seed_lots

    if Settings.from_env().production:
        return 0
    new = sum(operator_by_code(session, spec.code) is None for spec in SeedLots().operators)
    seed_lots(session, clock=SYSTEM_CLOCK)
    return new


SEEDERS.append(("demo parking operators and lots", _seed_demo_parking))


def seed_all(session: Session) -> dict[str, int]:
    """Run every seeder in order; return rows added by each."""
    return {label: seeder(session) for label, seeder in SEEDERS}
