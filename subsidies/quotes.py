"""Quotes: a preview prices without side effects; a pinned quote is stored with its rule-set hash,
explanation and fund reservations, so a later payment uses exactly that price and is never repriced.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import SYSTEM_CLOCK, Clock
from core.db import Base, UTCDateTime
from core.money import Money
from subsidies import budgets
from subsidies.beneficiaries import categories_on
from subsidies.catalogue import get_service
from subsidies.compiler import CompiledRuleSet, canonical_json
from subsidies.errors import QuoteNotFound, QuoteNotOpen
from subsidies.evaluator import FUND_EXHAUSTED, Decision, evaluate
from subsidies.facts import QuoteRequest
from subsidies.rule_store import compiled_rule_set, current_rule_set

QUOTE_STATUSES = ("open", "paid", "expired", "cancelled")
DEFAULT_TTL = timedelta(hours=24)


class Quote(Base):
    """A price pinned to a rule set for one citizen's request."""

    __tablename__ = "quotes"
    __table_args__ = (
        CheckConstraint("amount_due >= 0", name="amount_due_not_negative"),
        CheckConstraint("amount_due <= base_amount", name="amount_due_within_base"),
        CheckConstraint(f"status IN {QUOTE_STATUSES}", name="status_known"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("services.code"), index=True)
    #: The request as priced (``QuoteRequest.to_dict``), so the decision can be replayed.
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    decision_day: Mapped[date] = mapped_column(Date)
    rule_set_hash: Mapped[str] = mapped_column(ForeignKey("rule_sets.hash"), index=True)
    base_amount: Mapped[int] = mapped_column(BigInteger)
    amount_due: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="VND")
    explanation: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: Funds that had no room when the quote was priced; replaying gives them no room again.
    exhausted_funds: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Who the quote is for (an identity subject id); payments refer to citizens by id only.
    citizen_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def due(self) -> Money:
        """The pinned amount due."""
        return Money(self.amount_due, self.currency)


def preview(session: Session, request: QuoteRequest, clock: Clock = SYSTEM_CLOCK) -> Decision:
    """Price ``request`` with the current rule set; reserves and stores nothing."""
    get_service(session, request.service_code)
    return evaluate(current_rule_set(session), request, budgets.fund_room(session))


def create_quote(session: Session, request: QuoteRequest, *, citizen_ref: str | None = None,
                 personal_id: str | None = None, ttl: timedelta = DEFAULT_TTL, clock: Clock = SYSTEM_CLOCK) -> Quote:
    """Price ``request``, reserve its subsidies atomically and store the quote pinned to the rule set.

    With ``personal_id`` the categories the beneficiary registry holds for that day are added to the facts.
    """
    get_service(session, request.service_code)
    if personal_id is not None:
        request = request.with_categories(categories_on(session, personal_id, request.decision_day))
    rule_set = current_rule_set(session)
    quote_id = str(uuid.uuid4())
    decision, exhausted = _price_and_reserve(session, rule_set, request)
    quote = Quote(id=quote_id, service_code=request.service_code, request=request.to_dict(),
                  decision_day=decision.day, rule_set_hash=rule_set.hash, base_amount=decision.base_amount,
                  amount_due=decision.amount_due, currency=decision.currency, explanation=decision.explanation,
                  exhausted_funds=sorted(exhausted), citizen_ref=citizen_ref, status="open",
                  created_at=clock.now(), expires_at=clock.now() + ttl)
    session.add(quote)
    session.flush()
    for fund_code, amount in decision.fund_amounts().items():
        budgets.record_reservation(session, quote_id, fund_code, amount, clock)
    return quote


def _price_and_reserve(session: Session, rule_set: CompiledRuleSet,
                       request: QuoteRequest) -> tuple[Decision, set[str]]:
    """Evaluate, then reserve each fund's share; a fund that just ran out is priced again without it."""
    exhausted: set[str] = set()
    while True:
        room = budgets.fund_room(session)
        room.update({code: 0 for code in exhausted})
        decision = evaluate(rule_set, request, room)
        exhausted |= {step[0].fund for step in decision.steps if step[1] == FUND_EXHAUSTED}
        reserved: list[tuple[str, int]] = []
        failed = None
        for fund_code, amount in decision.fund_amounts().items():
            if not budgets.try_reserve(session, fund_code, amount):
                failed = fund_code
                break
            reserved.append((fund_code, amount))
        if failed is None:
            return decision, exhausted
        # Another quote took the room between our snapshot and our UPDATE: give back and price again.
        for fund_code, amount in reserved:
            budgets.unreserve(session, fund_code, amount)
        exhausted.add(failed)


def get_quote(session: Session, quote_id: str) -> Quote:
    """Return the quote or raise ``QuoteNotFound``."""
    quote = session.get(Quote, quote_id)
    if quote is None:
        raise QuoteNotFound(f"no quote {quote_id!r}", details={"quote_id": quote_id})
    return quote


def mark_paid(session: Session, quote_id: str, clock: Clock = SYSTEM_CLOCK) -> Quote:
    """Close an open quote as paid and commit its reservations; the pinned amount is what was paid."""
    return _close(session, quote_id, "paid", "committed", clock)


def cancel_quote(session: Session, quote_id: str, clock: Clock = SYSTEM_CLOCK) -> Quote:
    """Close an open quote as cancelled and release its reservations."""
    return _close(session, quote_id, "cancelled", "released", clock)


def expire_quotes(session: Session, clock: Clock = SYSTEM_CLOCK) -> int:
    """Expire open quotes past their time and release their reservations; return how many expired."""
    due = list(session.scalars(select(Quote.id).where(Quote.status == "open", Quote.expires_at < clock.now())))
    return sum(1 for quote_id in due if _close(session, quote_id, "expired", "released", clock, strict=False))


def _close(session: Session, quote_id: str, status: str, reservation_outcome: str, clock: Clock,
           strict: bool = True) -> Quote | None:
    get_quote(session, quote_id)
    # Guarded on status: of two concurrent closes, one wins and the other sees the quote already closed.
    changed = session.execute(update(Quote).where(Quote.id == quote_id, Quote.status == "open")
                              .values(status=status, closed_at=clock.now())
                              .execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        if strict:
            raise QuoteNotOpen(f"quote {quote_id} is not open", details={"quote_id": quote_id})
        return None
    budgets.close_reservations(session, quote_id, reservation_outcome, clock)
    return get_quote(session, quote_id)


def replay(session: Session, quote: Quote) -> Decision:
    """Price the quote's request again under its pinned rule set and fund outcome."""
    rule_set = compiled_rule_set(session, quote.rule_set_hash)
    room = {code: 0 for code in quote.exhausted_funds}
    reservations = session.scalars(select(budgets.FundReservation).where(budgets.FundReservation.quote_id == quote.id))
    room.update({r.fund_code: r.amount for r in reservations})
    return evaluate(rule_set, QuoteRequest.from_dict(quote.request), room)


def replays_identically(session: Session, quote: Quote) -> bool:
    """True when replaying reproduces the stored amount and explanation byte for byte."""
    decision = replay(session, quote)
    return (decision.amount_due == quote.amount_due
            and canonical_json(decision.explanation) == canonical_json(quote.explanation))


