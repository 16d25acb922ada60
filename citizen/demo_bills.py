"""Demo bills for the stand-in's demo citizens, priced by the subsidies engine; idempotent by agency reference.

Each bill is priced as an agency would before the citizen logs in: with the facts it knows (request made
through VNeID, residence and birth date from the dossier) but not the e-ID level, which only the login
proves. Opening it after e-ID login prices it again: the level-2 Hà Nội citizen's judicial-record bill
then falls to 0 đ under Hà Nội's support (in force for requests made in 2025; the dossier date below is
the decision day), and the TP HCM citizen's stays at 200,000 đ.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, VIETNAM, Clock
from core.settings import Settings
from identity.devidp.accounts import CITIZENS, DemoCitizen
from identity.personal_data import PersonalIdVault, mask_personal_id
from payments.bills import NewBill, create_bill
from payments.models.billing import Bill
from payments.pricing import price
from subsidies.facts import QuoteRequest

#: The day the demo dossiers were filed: Hà Nội's 2025 support (HN-LLTP-VNEID v2) is in force then.
DOSSIER_DAY = date(2025, 12, 15)


@dataclass(frozen=True)
class DemoBill:
    """One demo bill: whose, for what, at which agency, under which reference."""

    subject: str
    agency_code: str
    agency_reference: str
    description: str


DEMO_BILLS: tuple[DemoBill, ...] = (
    DemoBill(CITIZENS[0].subject, "HN-CA", "LLTP-HN-DEMO-0001",
             "Phiếu lý lịch tư pháp số 1 (hồ sơ nộp qua VNeID ngày 15/12/2025)"),
    DemoBill(CITIZENS[2].subject, "HCM-CA", "LLTP-HCM-DEMO-0001",
             "Phiếu lý lịch tư pháp số 1 (hồ sơ nộp qua VNeID ngày 15/12/2025)"),
    # A level-1 e-ID: the certificate needs level 2, so opening this bill leads through step-up login.
    DemoBill(CITIZENS[1].subject, "HN-CA", "LLTP-HN-DEMO-0002",
             "Phiếu lý lịch tư pháp số 1 (hồ sơ nộp qua VNeID ngày 15/12/2025)"),
)


def _agency_request(citizen: DemoCitizen) -> QuoteRequest:
    """What the agency knows: the channel and the dossier's facts, not the e-ID level."""
    return QuoteRequest(service_code="LLTP", decision_at=datetime.combine(DOSSIER_DAY, time(9), tzinfo=VIETNAM),
                        channel="VNEID", quantity=1, birthdate=date.fromisoformat(citizen.birthdate),
                        residence_province_code=citizen.province, residence_commune_code=citizen.commune)


def seed_demo_bills(session: Session, vault: PersonalIdVault, *, clock: Clock = SYSTEM_CLOCK) -> int:
    """Create the demo bills that do not exist yet; return how many were added."""
    added = 0
    for demo in DEMO_BILLS:
        exists = session.scalar(select(Bill.id).where(Bill.agency_code == demo.agency_code,
                                                      Bill.agency_reference == demo.agency_reference))
        if exists is not None:
            continue
        citizen = next(c for c in CITIZENS if c.subject == demo.subject)
        quote = price(session, _agency_request(citizen), clock=clock, personal_id=citizen.personal_id)
        create_bill(session, NewBill(
            payer_id_hash=vault.lookup_hash(citizen.personal_id), service_code="LLTP", quantity=1, quote=quote,
            fee_kind="phi", retained_basis_points=0, agency_code=demo.agency_code,
            agency_reference=demo.agency_reference, description=demo.description,
            due_date=clock.today_in_vietnam() + timedelta(days=30), payer_name=citizen.name,
            payer_masked_id=mask_personal_id(citizen.personal_id)), clock=clock)
        added += 1
    return added


def seed_from_settings(session: Session, settings: Settings | None = None) -> int:
    """The seeder: demo bills only when the stand-in (and so its demo citizens) is the citizen provider."""
    from web.identity_runtime import personal_id_vault

    settings = settings or Settings.from_env()
    if settings.oidc_issuer or not settings.dev_idp_enabled:
        return 0
    return seed_demo_bills(session, personal_id_vault(settings))
