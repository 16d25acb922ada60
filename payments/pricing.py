"""Pricing a bill: the one path from the subsidies engine to a bill's quote, for every edge.

Design overview
---------------
* The agency API, the citizen pages and the demo seeder all price through ``price``: a pinned subsidies
  quote (rule set, fund reservations, explanation) becomes a ``payments.bills.Quote``. Each funded
  reduction is a subsidy line of its fund; unfunded reductions (statutory exemptions) are already out of
  the base.
* The bill keeps the priced request in its explanation (``request``, in ``QuoteRequest.to_dict`` form), so
  after e-ID login the same request (service, quantity, decision moment) is priced again with the facts
  the login asserted (``EidFacts``). Nothing is requoted when those facts did not change; a requote
  reserves with a new quote and releases the old one's reservations.
* A service's minimum e-ID level is pinned on the bill with its price (``bills.min_eid_level``) and
  checked here (``require_eid_level``): by the requote, the bill page's use case and the start of every
  payment, so no edge can forget it. The pages send the citizen through step-up first; this refusal is
  the backstop.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.money import Money
from payments import bills as bill_service
from payments.bills import Quote, SubsidyLine
from payments.errors import EidLevelTooLow
from payments.models.billing import Bill
from subsidies import quotes as subsidy_quotes
from subsidies.budgets import FundReservation
from subsidies.catalogue import get_service
from subsidies.errors import QuoteNotFound, QuoteNotOpen
from subsidies.facts import EidFacts, QuoteRequest

#: A bill's quote holds its fund reservations this long (a bill waits for its payer longer than a preview).
BILL_QUOTE_TTL = timedelta(days=30)


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
                 subsidies=lines, explanation=explanation, rule_set_hash=pinned.rule_set_hash, quote_id=pinned.id,
                 min_eid_level=get_service(session, request.service_code).min_eid_level)


def _fund_amounts(session: Session, quote_id: str) -> dict[str, int]:
    """What each fund pays for this quote: its reservations."""
    rows = session.scalars(select(FundReservation).where(FundReservation.quote_id == quote_id))
    return {row.fund_code: row.amount for row in rows}


def meets_eid_level(bill: Bill, eid_level: int) -> bool:
    """True when a login of ``eid_level`` is strong enough for the bill's service."""
    return eid_level >= bill.min_eid_level


def require_eid_level(bill: Bill, eid_level: int) -> None:
    """Refuse a citizen whose e-ID login is below the level the bill's service requires."""
    if not meets_eid_level(bill, eid_level):
        raise EidLevelTooLow(f"bill {bill.public_id} needs e-ID level {bill.min_eid_level}",
                             details={"required": bill.min_eid_level, "eid_level": eid_level})


def priced_request(bill: Bill) -> QuoteRequest | None:
    """The request the bill was priced with; None for a bill priced outside the engine."""
    stored = (bill.explanation or {}).get("request")
    return QuoteRequest.from_dict(stored) if stored else None


def facts_changed(bill: Bill, facts: EidFacts) -> bool:
    """True when the bill's pinned request was priced with other e-ID facts than ``facts``."""
    request = priced_request(bill)
    return request is not None and facts.differ_from(request)


def requote_with_facts(session: Session, bill: Bill, facts: EidFacts, *, clock: Clock,
                       personal_id: str | None = None) -> Bill:
    """Price the bill's request again with the citizen's e-ID facts and pin it; the old quote is released."""
    require_eid_level(bill, facts.eid_level)
    bill = bill_service.lock_bill(session, bill.public_id)  # a concurrent requote may have done it already
    request = priced_request(bill)
    if request is None or not facts.differ_from(request):
        return bill
    old_quote_id = bill.quote_id
    quote = price(session, facts.apply_to(request), clock=clock, personal_id=personal_id,
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
