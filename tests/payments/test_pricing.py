"""Pricing a bill goes through one service: the engine's quote, its lifetime and the service's e-ID level,
enforced by the payments services themselves (not only by the pages)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select

from payments import pricing
from payments.errors import EidLevelTooLow, InvalidBill
from payments.models.billing import Bill, Payment
from payments.starting import PayerSession, create_payment
from subsidies.facts import EidFacts, QuoteRequest
from subsidies.quotes import Quote as SubsidyQuote
from subsidies.seed import seed_catalogue, seed_rules
from tests.payments.factories import judicial_record_quote, make_bill, new_bill

LEVEL_ONE_HANOI = EidFacts(eid_level=1, residence_province_code="01", residence_commune_code=None,
                           birthdate=date(1990, 5, 1))


@pytest.fixture()
def priced(db, clock):
    """Price ``service_code`` with the seeded catalogue and rules, as every edge does."""
    seed_catalogue(db)
    seed_rules(db, clock=clock)

    def price(service_code: str = "LLTP", channel: str = "COUNTER"):
        request = QuoteRequest(service_code=service_code, decision_at=clock.now(), channel=channel)
        return pricing.price(db, request, clock=clock, personal_id="001090000001")

    return price


def _payments_of(db, bill) -> int:
    return db.scalar(select(func.count()).select_from(Payment).where(Payment.bill_id == bill.id))


def test_a_payment_below_the_bills_e_id_level_is_refused_and_nothing_is_written(db, clock, sandbox):
    bill = make_bill(db, clock, quote=replace(judicial_record_quote(), min_eid_level=2))
    with pytest.raises(EidLevelTooLow) as refused:
        create_payment(db, bill.public_id, provider_name="sandbox", payer=PayerSession(eid_level=1, sub="c"),
                       return_url=None, clock=clock)
    assert refused.value.code == "eid_level_too_low" and refused.value.details["required"] == 2
    assert _payments_of(db, bill) == 0
    create_payment(db, bill.public_id, provider_name="sandbox", payer=PayerSession(eid_level=2, sub="c"),
                   return_url=None, clock=clock)
    assert _payments_of(db, bill) == 1


def test_the_engine_pins_the_services_e_id_level_with_the_price(priced):
    assert priced("LLTP").min_eid_level == 2  # the judicial-record certificate needs a level-2 e-ID
    assert priced("TLHT").min_eid_level == 1


def test_a_bill_priced_by_the_engine_reserves_for_the_one_bill_quote_lifetime(db, clock, priced):
    quote = priced("LLTP")
    pinned = db.get(SubsidyQuote, quote.quote_id)
    assert pinned.expires_at == clock.now() + pricing.BILL_QUOTE_TTL


def test_a_requote_below_the_bills_e_id_level_is_refused_and_the_price_stays(db, clock, priced):
    bill = make_bill(db, clock, quote=priced("LLTP"))
    pinned = (bill.amount_due, bill.quote_id)
    with pytest.raises(EidLevelTooLow):
        pricing.requote_with_facts(db, bill, LEVEL_ONE_HANOI, clock=clock)
    db.expire_all()
    again = db.get(Bill, bill.id)
    assert (again.amount_due, again.quote_id) == pinned


def test_a_requote_with_the_logins_facts_prices_the_same_request_again(db, clock, priced):
    bill = make_bill(db, clock, quote=priced("LLTP"))
    level_two = replace(LEVEL_ONE_HANOI, eid_level=2)
    assert pricing.facts_changed(bill, level_two)
    requoted = pricing.requote_with_facts(db, bill, level_two, clock=clock)
    request = pricing.priced_request(requoted)
    assert (request.channel, request.eid_level, request.residence_province_code) == ("VNEID", 2, "01")
    assert request.service_code == "LLTP" and request.quantity == 1
    assert not pricing.facts_changed(requoted, level_two)


def test_a_bill_priced_outside_the_engine_is_never_requoted(db, clock):
    bill = make_bill(db, clock, quote=judicial_record_quote())
    assert pricing.priced_request(bill) is None and not pricing.facts_changed(bill, LEVEL_ONE_HANOI)


def test_a_quote_with_an_unknown_e_id_level_is_refused(db, clock):
    with pytest.raises(InvalidBill):
        make_bill(db, clock, quote=replace(judicial_record_quote(), min_eid_level=3))
    assert new_bill().quote.min_eid_level == 1
