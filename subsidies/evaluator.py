"""The evaluator: walk the layers of a compiled rule set and record why every rule did or did not apply.

It is pure (no database, no clock) and fast: one pass over the service's rules, a trace of small tuples.
The prose of the explanation is rendered from the trace only when someone reads it (``explanation``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from core.money import Money
from subsidies.compiler import CompiledRule, CompiledRuleSet
from subsidies.errors import NoBaseFee, UnknownService
from subsidies.facts import QuoteRequest

# Outcome codes: stable, part of the API.
APPLIED = "applied"
NOT_IN_FORCE = "not_in_force"
CONDITION_FAILED = "condition_failed"
FACT_MISSING = "fact_missing"
CODE_LIST_MISMATCH = "code_list_mismatch"
LAYER_DECIDED = "layer_already_decided"
PRIOR_LAYER_APPLIED = "prior_layer_applied"
FUND_EXHAUSTED = "fund_exhausted"


class Step(tuple):
    """What happened to one rule: ``(rule, outcome, detail, amount)``, a plain tuple for speed.

    ``detail`` is the failed ``Check`` (condition outcomes) or the ``CompiledRule`` that blocked this one;
    ``amount`` is the charge added (base layer) or the reduction given (other layers), both >= 0.
    """

    __slots__ = ()
    rule = property(lambda self: self[0])
    outcome = property(lambda self: self[1])
    detail = property(lambda self: self[2])
    amount = property(lambda self: self[3])


class Decision:
    """The price of one request under one rule set, with its trace."""

    __slots__ = ("_explanation", "amount_due", "base_amount", "currency", "request", "rule_set_hash", "steps")

    def __init__(self, request: QuoteRequest, rule_set_hash: str, base_amount: int, amount_due: int,
                 steps: list[tuple], currency: str = "VND"):
        self.request = request
        self.rule_set_hash = rule_set_hash
        self.base_amount = base_amount
        self.amount_due = amount_due
        self.steps = steps
        self.currency = currency
        self._explanation: list[dict[str, Any]] | None = None

    @property
    def day(self) -> date:
        """The decision day in Asia/Ho_Chi_Minh."""
        return self.request.decision_day

    @property
    def facts(self) -> Mapping[str, Any]:
        """The facts the rules were tested against."""
        return self.request.facts

    @property
    def trace(self) -> list[Step]:
        """The steps as ``Step`` views (rule, outcome, detail, amount)."""
        return [Step(step) for step in self.steps]

    @property
    def base(self) -> Money:
        """The base fee before exemptions and support."""
        return Money(self.base_amount, self.currency)

    @property
    def due(self) -> Money:
        """What the citizen pays."""
        return Money(self.amount_due, self.currency)

    @property
    def applied(self) -> tuple[str, ...]:
        """``RULE@version`` of every applied rule, in order."""
        return tuple(step[0].key for step in self.steps if step[1] == APPLIED)

    def outcome_of(self, rule_id: str) -> str | None:
        """The outcome of ``rule_id`` in this decision, or None if it was not considered."""
        return next((step[1] for step in self.steps if step[0].rule_id == rule_id), None)

    def fund_amounts(self) -> dict[str, int]:
        """Reductions paid from each fund: what a pinned quote must reserve."""
        funds: dict[str, int] = {}
        for rule, outcome, _detail, amount in self.steps:
            if outcome == APPLIED and rule.fund and amount:
                funds[rule.fund] = funds.get(rule.fund, 0) + amount
        return funds

    @property
    def explanation(self) -> list[dict[str, Any]]:
        """The explanation tree in Vietnamese and English (rendered once, on first use)."""
        if self._explanation is None:
            from subsidies.explanation import render

            self._explanation = render(self)
        return self._explanation


def evaluate(rule_set: CompiledRuleSet, request: QuoteRequest,
             fund_room: Mapping[str, int] | None = None) -> Decision:
    """Price ``request``; ``fund_room`` (fund -> room left) makes funded rules stop when exhausted."""
    day = request.decision_day
    rules = rule_set.rules_on(request.service_code, day.toordinal())
    if not rules:
        raise UnknownService(f"no rules for service {request.service_code!r}",
                             details={"service_code": request.service_code})
    facts = request.facts
    room = dict(fund_room) if fund_room is not None else None
    steps: list[tuple] = []
    append = steps.append
    quantity = request.quantity
    base = remaining = 0
    applied_layers: dict[str, CompiledRule] = {}
    layer = None
    decided_by: CompiledRule | None = None
    for rule, in_force in rules:
        if rule.layer != layer:
            layer, decided_by = rule.layer, None
        if not in_force:
            append((rule, NOT_IN_FORCE, None, 0))
            continue
        if decided_by is not None:
            append((rule, LAYER_DECIDED, decided_by, 0))
            continue
        if rule.unless is not None and rule.unless in applied_layers:
            append((rule, PRIOR_LAYER_APPLIED, applied_layers[rule.unless], 0))
            continue
        failure = None
        for check in rule.checks:  # inlined: this loop is the hot path of every quote and simulation
            value = facts[check.key]
            if value is None:
                failure = FACT_MISSING
            elif check.code_list is not None and facts["code_list"] != check.code_list:
                failure = CODE_LIST_MISMATCH
            elif not check.test(value, check.operand):
                failure = CONDITION_FAILED
            else:
                continue
            append((rule, failure, check, 0))
            break
        if failure is not None:
            continue
        amount = 0
        for effect in rule.effects:
            amount += effect(remaining, quantity)
        if rule.layer_index == 0:
            base += amount
            remaining += amount
        else:
            amount = min(amount, remaining)  # never below 0
            if rule.fund is not None and room is not None:
                if room.get(rule.fund, 0) < amount:
                    append((rule, FUND_EXHAUSTED, None, 0))
                    continue
                room[rule.fund] -= amount
            remaining -= amount
        applied_layers.setdefault(layer, rule)
        if rule.first:
            decided_by = rule
        append((rule, APPLIED, None, amount))
    if "base" not in applied_layers:
        raise NoBaseFee(f"no base fee for {request.service_code} is in force on {day.isoformat()} for this request",
                        details={"service_code": request.service_code, "day": day.isoformat()})
    return Decision(request, rule_set.hash, base, remaining, steps)

