"""Pricing a stay from the city's tariff, as rules in the subsidies engine, segment by segment.

Design overview
---------------
The tariff is data: rules of a parking service (``PARKING_HN``…) in the subsidies rule store, dated, with
their legal basis, edited, simulated and approved like fees. This module only cuts the stay the way the
tariff charges it (``parking.stays``) and asks the evaluator, so exemptions and subsidies (a person with a
disability, the city's own programmes) apply through the same rules with the same explanation.

* **Turns** (``unit="turn"``): each turn is one evaluation, ``time_band`` = its band, ``quantity`` = 1, under
  the rules in force on the day the turn starts.
* **Hours** (``unit="hour"``): hour *n* is charged at the tier for *n* (progressive tariffs). The hours are
  grouped into segments by the rules in force on the day each starts; a segment of hours *a..b* costs
  ``price(b) - price(a - 1)`` under its own rules, so a tariff changing mid-stay splits the stay without
  restarting the tiers.
* **A right** the session uses (a monthly pass) covers the stay: 0 đ, explained by the pass, not priced.
* Within the grace the stay costs nothing and no rule is asked.

Each segment keeps its evaluator explanation (rules applied and why others did not, with legal basis).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.clock import VIETNAM
from core.money import Money
from parking import stays
from subsidies.compiler import CompiledRuleSet
from subsidies.evaluator import evaluate
from subsidies.facts import QuoteRequest

TURN, HOUR = "turn", "hour"
#: How each vehicle class is charged unless a lot says otherwise (Decision 44/2017's shapes).
DEFAULT_UNITS = {"BICYCLE": TURN, "MOTORBIKE": TURN, "CAR": HOUR}
#: Gate events happen at the site: the request channel rules see.
CHANNEL = "COUNTER"


@dataclass(frozen=True)
class StayRequest:
    """What is priced: a vehicle's stay at a lot under the lot's tariff service."""

    service: str
    vehicle_class: str
    entered_at: datetime
    exited_at: datetime
    zone: str | None = None
    unit: str | None = None
    grace: timedelta = stays.DEFAULT_GRACE
    #: The citizen's beneficiary categories (``DISABILITY``…), for exemptions written as rules.
    categories: frozenset[str] = frozenset()
    #: The right the session uses, e.g. ``pass:PS7K2M`` (a monthly pass): it covers the stay.
    right: str | None = None

    @property
    def charged_by(self) -> str:
        """``turn`` or ``hour``."""
        return self.unit or DEFAULT_UNITS.get(self.vehicle_class, TURN)


@dataclass(frozen=True)
class Segment:
    """A part of the stay priced under one set of rules: turns of one band, or hours ``first..last``."""

    start: datetime
    end: datetime
    unit: str
    amount: int
    band: str | None = None
    first_hour: int | None = None
    last_hour: int | None = None
    applied: tuple[str, ...] = ()
    explanation: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The segment as JSON-ready data (stored with the session, shown on the bill)."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "unit": self.unit,
                "amount": self.amount, "band": self.band, "first_hour": self.first_hour,
                "last_hour": self.last_hour, "applied": list(self.applied), "explanation": list(self.explanation)}


@dataclass(frozen=True)
class PricedStay:
    """The price of a stay, its segments, and the rule set that priced it."""

    amount: Money
    segments: tuple[Segment, ...]
    rule_set_hash: str
    #: Why nothing was charged without a rule being asked: ``grace`` or the right that covered the stay.
    covered_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The price as JSON-ready data."""
        return {"amount": self.amount.amount, "currency": self.amount.currency, "rule_set_hash": self.rule_set_hash,
                "covered_by": self.covered_by, "segments": [segment.to_dict() for segment in self.segments]}


def price_stay(rule_set: CompiledRuleSet, stay: StayRequest) -> PricedStay:
    """Price ``stay`` under ``rule_set`` (see the module docstring)."""
    stays.duration(stay.entered_at, stay.exited_at)  # refuses an exit before the entry
    if stay.right is not None:
        return PricedStay(Money(0, "VND"), (), rule_set.hash, covered_by=stay.right)
    if stays.within_grace(stay.entered_at, stay.exited_at, stay.grace):
        return PricedStay(Money(0, "VND"), (), rule_set.hash, covered_by="grace")
    segments = tuple(_turn_segments(rule_set, stay) if stay.charged_by == TURN else _hour_segments(rule_set, stay))
    return PricedStay(Money(sum(s.amount for s in segments), "VND"), segments, rule_set.hash)


def _turn_segments(rule_set: CompiledRuleSet, stay: StayRequest) -> Iterator[Segment]:
    for turn in stays.turns(stay.entered_at, stay.exited_at, stay.grace):
        decision = evaluate(rule_set, _request(stay, turn.start, quantity=1, time_band=turn.band))
        yield Segment(turn.start, turn.end, TURN, decision.amount_due, band=turn.band, applied=decision.applied,
                      explanation=tuple(decision.explanation))


def _hour_segments(rule_set: CompiledRuleSet, stay: StayRequest) -> Iterator[Segment]:
    for group in _by_tariff(rule_set, stay.service, stays.hours(stay.entered_at, stay.exited_at, stay.grace)):
        first, last = group[0], group[-1]
        decision = evaluate(rule_set, _request(stay, first.start, quantity=last.number))
        before = (evaluate(rule_set, _request(stay, first.start, quantity=first.number - 1)).amount_due
                  if first.number > 1 else 0)
        yield Segment(first.start, last.end, HOUR, decision.amount_due - before, first_hour=first.number,
                      last_hour=last.number, applied=decision.applied, explanation=tuple(decision.explanation))


def _by_tariff(rule_set: CompiledRuleSet, service: str, hours: tuple[stays.Hour, ...]) -> list[list[stays.Hour]]:
    """Consecutive hours whose start days have the same rules in force."""
    groups: list[list[stays.Hour]] = []
    previous = None
    for hour in hours:
        in_force = _rules_in_force(rule_set, service, hour.start)
        if groups and in_force == previous:
            groups[-1].append(hour)
        else:
            groups.append([hour])
        previous = in_force
    return groups


def _rules_in_force(rule_set: CompiledRuleSet, service: str, moment: datetime) -> tuple[str, ...]:
    ordinal = moment.astimezone(VIETNAM).date().toordinal()  # rules are in force by the Vietnamese day
    return tuple(rule.key for rule, in_force in rule_set.rules_on(service, ordinal) if in_force)


def _request(stay: StayRequest, at: datetime, *, quantity: int, time_band: str | None = None) -> QuoteRequest:
    return QuoteRequest(service_code=stay.service, decision_at=at, channel=CHANNEL, quantity=quantity,
                        categories=stay.categories, vehicle_class=stay.vehicle_class, time_band=time_band,
                        zone=stay.zone)

