"""Pricing bills with the subsidies engine: a pinned quote becomes a bill's quote; e-ID facts requote it.

Design overview
---------------
* ``payments`` knows nothing of ``subsidies``: this bridge turns a subsidies ``Quote`` (rule set, funds
  reserved, explanation tree) into a ``payments.bills.Quote``. Each funded reduction is a subsidy line of
  its fund (the programme); unfunded reductions (statutory exemptions) are already out of the base.
* The bill keeps the priced request in its explanation (``request``), so after e-ID login the same
  request (same service, quantity and decision day) is priced again with the facts VNeID asserted: level,
  residence, birth date, channel. Nothing is requoted when those facts did not change.
* A requote reserves with a new subsidies quote and releases the old one's reservations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.money import Money
from payments import bills as bill_service
from payments.bills import Quote, SubsidyLine
from payments.models.billing import Bill
from subsidies import quotes as subsidy_quotes
from subsidies.budgets import FundReservation
from subsidies.errors import QuoteNotFound, QuoteNotOpen
from subsidies.facts import QuoteRequest

#: A bill's quote holds its fund reservations this long (a bill waits for its payer longer than a preview).
BILL_QUOTE_TTL = timedelta(days=30)
#: The facts e-ID login asserts; a requote happens only when one of them differs from the pinned request.
EID_FACTS = ("channel", "eid_level", "residence_province_code", "residence_commune_code", "birthdate")


@dataclass(frozen=True)
class EidFacts:
    """What the citizen's e-ID session says about them, as the subsidies engine's request fields."""

    eid_level: int
    residence_province_code: str | None
    residence_commune_code: str | None
    birthdate: date | None
    channel: str = "VNEID"

    def as_request_fields(self) -> dict[str, Any]:
        """The request fields, in ``QuoteRequest.to_dict`` form."""
        return {"channel": self.channel, "eid_level": self.eid_level,
                "residence_province_code": self.residence_province_code,
                "residence_commune_code": self.residence_commune_code,
                "birthdate": self.birthdate.isoformat() if self.birthdate else None}


def price(session: Session, request: QuoteRequest, *, clock: Clock, personal_id: str | None = None,
          citizen_ref: str | None = None) -> Quote:
    """Create a pinned subsidies quote for ``request`` and return it as a bill quote."""
    pinned = subsidy_quotes.create_quote(session, request, citizen_ref=citizen_ref, personal_id=personal_id,
                                         ttl=BILL_QUOTE_TTL, clock=clock)
    funds = _fund_amounts(session, pinned.id)
    lines = tuple(SubsidyLine(fund, Money(amount, pinned.currency)) for fund, amount in sorted(funds.items()))
    explanation = {"quote_id": pinned.id, "request": pinned.request, "decision_day": pinned.decision_day.isoformat(),
                   "fee_before_reductions": pinned.base_amount, "layers": pinned.explanation}
    return Quote(amount_due=Money(pinned.amount_due, pinned.currency),
                 base_amount=Money(pinned.amount_due + sum(funds.values()), pinned.currency),
                 subsidies=lines, explanation=explanation, rule_set_hash=pinned.rule_set_hash, quote_id=pinned.id)


def _fund_amounts(session: Session, quote_id: str) -> dict[str, int]:
    """What each fund pays for this quote: its reservations."""
    rows = session.scalars(select(FundReservation).where(FundReservation.quote_id == quote_id))
    return {row.fund_code: row.amount for row in rows}


def facts_changed(bill: Bill, facts: EidFacts) -> bool:
    """True when the bill's pinned request was priced with other e-ID facts than ``facts``."""
    stored = (bill.explanation or {}).get("request")
    if not stored:
        return False  # priced outside this engine (no request to price again)
    wanted = facts.as_request_fields()
    return any(stored.get(name) != wanted[name] for name in EID_FACTS)


def requote_with_facts(session: Session, bill: Bill, facts: EidFacts, *, clock: Clock,
                       personal_id: str | None = None) -> Bill:
    """Price the bill's request again with the citizen's e-ID facts and pin it; the old quote is released."""
    bill = bill_service.lock_bill(session, bill.public_id)  # a concurrent requote may have done it already
    if not facts_changed(bill, facts):
        return bill
    stored = dict(bill.explanation["request"])
    stored.update(facts.as_request_fields())
    request = subsidy_quotes.request_from_stored(stored)
    old_quote_id = bill.quote_id
    quote = price(session, request, clock=clock, personal_id=personal_id,
                  citizen_ref=str(bill.citizen_id) if bill.citizen_id else None)
    bill = bill_service.requote_bill(session, bill.public_id, quote, clock=clock)
    _release(session, old_quote_id, clock)
    return bill


def _release(session: Session, quote_id: str | None, clock: Clock) -> None:
    if not quote_id:
        return
    try:
        subsidy_quotes.cancel_quote(session, quote_id, clock)
    except (QuoteNotFound, QuoteNotOpen):
        pass  # already closed (expired): nothing is reserved any more
