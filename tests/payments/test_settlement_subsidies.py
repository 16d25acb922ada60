"""Settling a bill, by card or for free, spends the subsidy money its pinned quote reserved."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time

from sqlalchemy import select

from core.clock import VIETNAM
from core.geography import seed_provinces
from payments.confirmation import apply_report
from payments.providers.base import ProviderSession, ProviderStatus, StatusReport
from payments.starting import record_provider_session
from subsidies.budgets import FundReservation
from subsidies.facts import QuoteRequest
from subsidies.quotes import Quote, create_quote
from subsidies.seed import seed_catalogue, seed_rules
from tests.payments.factories import judicial_record_quote, make_payment


def _reserved_quote(db, clock) -> Quote:
    """A Hà Nội level-2 request through VNeID in 2025: the city's fund reserves the whole fee."""
    seed_provinces(db)
    seed_catalogue(db)
    seed_rules(db)
    request = QuoteRequest(service_code="LLTP", quantity=1, channel="VNEID", eid_level=2,
                           decision_at=datetime.combine(date(2025, 6, 2), time(9), tzinfo=VIETNAM),
                           birthdate=date(1985, 3, 14), residence_province_code="01")
    return create_quote(db, request, citizen_ref="citizen-1", clock=clock)


def test_a_card_payment_spends_the_reserved_subsidy(db, clock, sandbox):
    pinned = _reserved_quote(db, clock)
    assert {r.status for r in db.scalars(select(FundReservation).where(FundReservation.quote_id == pinned.id))} \
        == {"held"}
    quote = replace(judicial_record_quote(), explanation={"quote_id": pinned.id}, quote_id=pinned.id)
    payment = make_payment(db, clock, quote=quote)
    opened = ProviderSession(f"sbx_{payment.public_id}", "https://pay.test/x", clock.now())
    payment = record_provider_session(db, payment.public_id, opened, clock=clock)
    report = StatusReport(session_id=payment.provider_session_id, status=ProviderStatus.SUCCEEDED,
                          reference=payment.public_id, amount=judicial_record_quote().amount_due)
    apply_report(db, payment.public_id, report, cause="notification", clock=clock)
    assert payment.bill.status == "paid"
    assert db.get(Quote, pinned.id).status == "paid"
    reservations = db.scalars(select(FundReservation).where(FundReservation.quote_id == pinned.id)).all()
    assert {r.status for r in reservations} == {"committed"}
