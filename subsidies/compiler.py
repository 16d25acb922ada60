"""Compile a rule set once into plain tuples and functions, so each evaluation is a short loop.

Nothing here evaluates text: operators and effects are looked up in fixed tables of small functions,
and operands are pre-converted (lists to frozensets, dates to ordinals, percentages to fractions).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from subsidies.definitions import Condition, Effect, RuleDefinition
from subsidies.vocabulary import LAYERS

OPEN_END = date.max.toordinal()

#: ``test(value, operand)`` per operator; the operand was pre-converted by ``_operand``.
_TESTS: dict[str, Callable] = {
    "eq": lambda v, a: v == a,
    "ne": lambda v, a: v != a,
    "in": lambda v, a: v in a,
    "not_in": lambda v, a: v not in a,
    "lt": lambda v, a: v < a,
    "le": lambda v, a: v <= a,
    "gt": lambda v, a: v > a,
    "ge": lambda v, a: v >= a,
    "between": lambda v, a: a[0] <= v <= a[1],
    "has_any": lambda v, a: not a.isdisjoint(v),
    "has_all": lambda v, a: a <= v,
    "has_none": lambda v, a: a.isdisjoint(v),
}


def _units(quantity: int, effect: Effect) -> int:
    """Count the steps of units numbered ``from_unit..to_unit`` within ``1..quantity`` (a started step counts)."""
    last = quantity if effect.to_unit is None else min(quantity, effect.to_unit)
    units = last - effect.from_unit + 1
    if units <= 0:
        return 0
    return -(-units // effect.step)


def _percent_of(remaining: int, numerator: int, denominator: int) -> int:
    """``remaining * numerator / denominator`` rounded half-up, in integers (same as Money.percent)."""
    return (2 * remaining * numerator + denominator) // (2 * denominator)


def _effect_function(effect: Effect) -> Callable[[int, int], int]:
    """Return ``amount(remaining, quantity)``: the charge (base layer) or the reduction it produces."""
    kind = effect.type
    if kind == "set_price":
        return lambda remaining, quantity, amount=effect.amount: amount
    if kind in ("per_unit_price", "per_unit_off"):
        cap = effect.max_total

        def per_unit(remaining: int, quantity: int, effect=effect, cap=cap) -> int:
            total = effect.amount * _units(quantity, effect)
            return total if cap is None else min(total, cap)

        return per_unit
    if kind == "exempt":
        return lambda remaining, quantity: remaining
    if kind == "percent_of_remaining":
        numerator, denominator = effect.percent.as_integer_ratio()
        return lambda remaining, quantity, n=numerator, d=denominator * 100: _percent_of(remaining, n, d)
    if kind == "amount_off":
        return lambda remaining, quantity, amount=effect.amount: amount
    raise AssertionError(f"effect {kind} is validated by the schema")  # pragma: no cover


def _operand(condition: Condition):
    if condition.op in ("in", "not_in", "has_any", "has_all", "has_none"):
        return frozenset(condition.value)
    return condition.value


@dataclass(frozen=True, slots=True)
class Check:
    """One compiled condition."""

    index: int
    key: str
    test: Callable
    operand: object
    code_list: str | None
    condition: Condition


class CompiledRule:
    """One rule version in the shape the evaluator's loop wants."""

    __slots__ = ("checks", "definition", "effects", "end", "first", "fund", "key", "layer", "layer_index",
                 "priority", "rule_id", "start", "unless", "version")

    def __init__(self, definition: RuleDefinition):
        self.definition = definition
        self.rule_id = definition.rule_id
        self.version = definition.version
        self.key = definition.key
        self.layer = definition.layer
        self.layer_index = LAYERS.index(definition.layer)
        self.priority = definition.priority
        self.first = definition.hit_policy == "first"
        self.start = definition.effective_from.toordinal()
        self.end = definition.effective_to.toordinal() if definition.effective_to else OPEN_END
        self.unless = definition.unless_layer_applied
        self.fund = definition.budget_fund
        self.checks = tuple(Check(i, c.field, _TESTS[c.op], _operand(c), c.code_list, c)
                            for i, c in enumerate(definition.conditions))
        self.effects = tuple(_effect_function(effect) for effect in definition.effects)

    def sort_key(self) -> tuple:
        """Layer order, then higher priority first, then rule id for a stable order."""
        return (self.layer_index, -self.priority, self.rule_id)


class CompiledRuleSet:
    """A hashed, compiled rule set; ``rules_on`` answers per service and day from a small cache."""

    def __init__(self, definitions: Iterable[RuleDefinition]):
        self.definitions = tuple(sorted(definitions, key=lambda d: (d.rule_id, d.version)))
        self.hash = rule_set_hash(self.definitions)
        by_service: dict[str, dict[str, list[CompiledRule]]] = {}
        for definition in self.definitions:
            versions = by_service.setdefault(definition.service, {}).setdefault(definition.rule_id, [])
            versions.append(CompiledRule(definition))
        self._versions = by_service
        self._cache: dict[tuple[str, int], tuple[tuple[CompiledRule, bool], ...]] = {}

    @property
    def services(self) -> frozenset[str]:
        """Service codes that have at least one rule."""
        return frozenset(self._versions)

    def rules_on(self, service: str, ordinal: int) -> tuple[tuple[CompiledRule, bool], ...]:
        """Each rule of ``service`` once, in evaluation order, with whether it is in force on the day."""
        cache_key = (service, ordinal)
        found = self._cache.get(cache_key)
        if found is None:
            if len(self._cache) > 10_000:
                self._cache.clear()  # a simulation over many days must not grow memory without bound
            found = self._cache[cache_key] = self._select(service, ordinal)
        return found

    def _select(self, service: str, ordinal: int) -> tuple[tuple[CompiledRule, bool], ...]:
        chosen = []
        for versions in self._versions.get(service, {}).values():
            in_force = [rule for rule in versions if rule.start <= ordinal <= rule.end]
            # Publishing refuses overlapping windows; should data disagree, the newest version wins.
            chosen.append((max(in_force, key=lambda r: r.version), True) if in_force
                          else (max(versions, key=lambda r: r.version), False))
        return tuple(sorted(chosen, key=lambda pair: pair[0].sort_key()))


def canonical_json(data: object) -> str:
    """Serialise ``data`` the same way every time (sorted keys, no spaces)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def rule_set_hash(definitions: Iterable[RuleDefinition]) -> str:
    """Return the SHA-256 of the rule set's canonical form; a quote pins it."""
    body = canonical_json(sorted((d.to_dict() for d in definitions), key=lambda d: (d["rule_id"], d["version"])))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
