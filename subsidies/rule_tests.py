"""Run the test cases attached to rules (and YAML acceptance cases) against a compiled rule set."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from subsidies.compiler import CompiledRuleSet
from subsidies.definitions import RuleDefinition
from subsidies.errors import SubsidyError
from subsidies.evaluator import Decision, evaluate
from subsidies.facts import request_from_dict


@dataclass(frozen=True)
class CaseResult:
    """One case's verdict; ``problems`` is empty when it passed."""

    name: str
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """True when every expectation held."""
        return not self.problems


def check_expectations(decision: Decision, expect: Mapping[str, Any]) -> list[str]:
    """Compare a decision with ``expect`` (amount_due, base_amount, applied, not_applied); list mismatches."""
    problems = []
    for key in ("amount_due", "base_amount"):
        if key in expect and getattr(decision, key) != expect[key]:
            problems.append(f"{key} is {getattr(decision, key)}, expected {expect[key]}")
    if "applied" in expect:
        wanted = [_key(item) for item in expect["applied"]]
        actual = list(decision.applied)
        if len(wanted) != len(actual) or not all(map(_matches, wanted, actual)):
            problems.append(f"applied {actual}, expected {wanted}")
    for rule_id, outcome in (expect.get("not_applied") or {}).items():
        actual = decision.outcome_of(rule_id)
        if actual != outcome:
            problems.append(f"{rule_id} outcome is {actual}, expected {outcome}")
    return problems


def run_case(rule_set: CompiledRuleSet, name: str, given: Mapping[str, Any], expect: Mapping[str, Any],
             fund_room: Mapping[str, int] | None = None) -> CaseResult:
    """Evaluate one case; an error (no base fee, bad input) is reported as a problem unless expected."""
    try:
        decision = evaluate(rule_set, request_from_dict(given), fund_room)
    except SubsidyError as exc:
        if expect.get("error") == exc.code:
            return CaseResult(name, ())
        return CaseResult(name, (f"raised {exc.code}: {exc.message}",))
    if "error" in expect:
        return CaseResult(name, (f"expected error {expect['error']}, got amount {decision.amount_due}",))
    return CaseResult(name, tuple(check_expectations(decision, expect)))


def run_attached_tests(rule_set: CompiledRuleSet, definitions: Iterable[RuleDefinition]) -> list[CaseResult]:
    """Run every test attached to ``definitions`` against ``rule_set``."""
    return [run_case(rule_set, f"{definition.key}: {test.name}", test.given, test.expect)
            for definition in definitions for test in definition.tests]


def _key(item: str) -> str:
    # "RULE" matches any version; "RULE@2" pins one.
    return item if "@" in item else f"{item}@*"


def _matches(pattern: str, key: str) -> bool:
    return pattern == key or (pattern.endswith("@*") and key.startswith(pattern[:-1]))
