"""A rule as plain, immutable data: what policy staff write, what YAML holds, what the compiler reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class LegalBasis:
    """The legal document a rule rests on; ``verify`` marks a citation from secondary sources only."""

    doc: str
    issuer: str
    #: None only for a ``verify`` citation whose date is not yet confirmed.
    date: date | None
    article: str
    url: str | None = None
    verify: bool = False
    sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the citation as YAML/JSON-ready data."""
        data = {"doc": self.doc, "issuer": self.issuer, "date": self.date.isoformat() if self.date else None,
                "article": self.article, "url": self.url, "verify": self.verify}
        if self.sha256:
            data["sha256"] = self.sha256
        return data


@dataclass(frozen=True)
class Condition:
    """One typed test of a declared field: ``field op value``; residence codes carry their code list."""

    field: str
    op: str
    #: A scalar, a tuple for list operators, a (low, high) pair for ``between``.
    value: Any
    code_list: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the condition as YAML/JSON-ready data."""
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        data = {"field": self.field, "op": self.op, "value": value}
        if self.code_list:
            data["code_list"] = self.code_list
        return data


@dataclass(frozen=True)
class Effect:
    """One effect from the closed set; unused parameters stay at their defaults."""

    type: str
    amount: int | None = None
    percent: Decimal | None = None
    from_unit: int = 1
    to_unit: int | None = None
    step: int = 1
    max_total: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the effect as YAML/JSON-ready data, leaving out parameters at their defaults."""
        data: dict[str, Any] = {"type": self.type}
        if self.amount is not None:
            data["amount"] = self.amount
        if self.percent is not None:
            data["percent"] = int(self.percent) if self.percent == self.percent.to_integral() else str(self.percent)
        if self.from_unit != 1:
            data["from_unit"] = self.from_unit
        if self.to_unit is not None:
            data["to_unit"] = self.to_unit
        if self.step != 1:
            data["step"] = self.step
        if self.max_total is not None:
            data["max_total"] = self.max_total
        return data


@dataclass(frozen=True)
class RuleTest:
    """A test case attached to a rule: a quote request and what it must produce."""

    name: str
    given: dict[str, Any]
    expect: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Return the test as YAML/JSON-ready data."""
        return {"name": self.name, "given": dict(self.given), "expect": dict(self.expect)}


@dataclass(frozen=True)
class RuleDefinition:
    """One version of one rule, complete: conditions, effects, dates, citation, layer, tests."""

    rule_id: str
    version: int
    service: str
    layer: str
    title: dict[str, str]
    effective_from: date
    legal_basis: tuple[LegalBasis, ...]
    effects: tuple[Effect, ...]
    conditions: tuple[Condition, ...] = ()
    effective_to: date | None = None
    priority: int = 0
    hit_policy: str = "first"
    #: Skip this rule when a rule of that earlier layer applied (Hà Nội: "not already exempt or reduced").
    unless_layer_applied: str | None = None
    budget_fund: str | None = None
    tests: tuple[RuleTest, ...] = field(default=())

    @property
    def key(self) -> str:
        """Return ``RULE-ID@version``, the way explanations and tests name a version."""
        return f"{self.rule_id}@{self.version}"

    def in_force(self, on: date) -> bool:
        """True when ``on`` lies in the inclusive effective window."""
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)

    def to_dict(self) -> dict[str, Any]:
        """Return the rule as YAML/JSON-ready data; the canonical form hashed into rule sets."""
        return {
            "rule_id": self.rule_id, "version": self.version, "service": self.service, "layer": self.layer,
            "priority": self.priority, "hit_policy": self.hit_policy, "title": dict(self.title),
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "legal_basis": [basis.to_dict() for basis in self.legal_basis],
            "conditions": [condition.to_dict() for condition in self.conditions],
            "effects": [effect.to_dict() for effect in self.effects],
            "unless_layer_applied": self.unless_layer_applied,
            "budget_fund": self.budget_fund,
            "tests": [test.to_dict() for test in self.tests],
        }
