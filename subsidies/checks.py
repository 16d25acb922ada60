"""Static checks a rule set must pass before publication (DMN-style analysis on the closed vocabulary).

* conflict: two rules of one service and layer, in force on a common day, whose conditions can all hold at
  once, with different effects and the same priority (nobody decided which wins);
* window_overlap: two versions of one rule in force on the same day;
* base_fee_gap: a day between a service's first and last base-fee day on which no base fee is in force;
* unknown_code: a residence code (or code list) that is not in the administrative code list;
* unknown_fund: a budget fund that does not exist.
Because operators and fields are a closed set, "can all hold at once" is decided exactly, not sampled.
Each problem carries its values in ``params`` so the back office can say in the reader's language what
to do (``admin/policy/messages.py``); ``message`` is the English text for logs, tests and API clients.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import combinations
from typing import Any

from subsidies.definitions import Condition, RuleDefinition
from subsidies.vocabulary import FIELDS, INT, SET


@dataclass(frozen=True)
class Problem:
    """One reason a rule set cannot be published; ``rules`` names every rule version involved."""

    #: Stable: API clients, tests and the message table rely on it.
    code: str
    message: str
    rules: tuple[str, ...]
    #: Plain values (text, numbers, ISO dates) the translated message is filled with.
    params: Mapping[str, Any] = field(default_factory=dict)
    #: Which translated message to show when one code has several (default: the code).
    message_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the problem as JSON-ready data (error details, the version page)."""
        return {"code": self.code, "message_id": self.message_id or self.code, "message": self.message,
                "rules": list(self.rules), "params": dict(self.params)}


def check_rule_set(definitions: Iterable[RuleDefinition], *, known_codes: Mapping[str, set[str]],
                   known_funds: set[str]) -> list[Problem]:
    """Every problem found in ``definitions`` (empty when the set may be published)."""
    rules = list(definitions)
    problems = window_overlaps(rules) + _base_fee_gaps(rules)
    for first, second in combinations(rules, 2):
        if _conflict(first, second):
            problems.append(Problem("conflict", f"{first.key} and {second.key} can both apply in layer {first.layer} "
                                                f"with different effects and the same priority {first.priority}; "
                                                "give one a higher priority", (first.key, second.key),
                                    params={"first": first.key, "second": second.key, "layer": first.layer,
                                            "priority": first.priority}))
    for rule in rules:
        problems += _unknown_codes(rule, known_codes)
        if rule.budget_fund and rule.budget_fund not in known_funds:
            problems.append(Problem("unknown_fund", f"{rule.key} draws on fund {rule.budget_fund}, which does not "
                                                    "exist", (rule.key,),
                                    params={"rule": rule.key, "fund": rule.budget_fund}))
    return problems


def _windows_meet(a: RuleDefinition, b: RuleDefinition) -> bool:
    end_a, end_b = a.effective_to or date.max, b.effective_to or date.max
    return a.effective_from <= end_b and b.effective_from <= end_a


def window_overlaps(rules: list[RuleDefinition]) -> list[Problem]:
    """Every pair of versions of one rule in force on a common day."""
    problems = []
    for first, second in combinations(rules, 2):
        if first.rule_id == second.rule_id and _windows_meet(first, second):
            day = max(first.effective_from, second.effective_from)
            problems.append(Problem("window_overlap", f"{first.key} and {second.key} are both in force on {day}",
                                    (first.key, second.key),
                                    params={"first": first.key, "second": second.key, "day": day.isoformat()}))
    return problems


def _base_fee_gaps(rules: list[RuleDefinition]) -> list[Problem]:
    problems = []
    for service in sorted({rule.service for rule in rules}):
        base = sorted((r for r in rules if r.service == service and r.layer == "base"),
                      key=lambda r: r.effective_from)
        covered_to: date | None = None
        for rule in base:
            if covered_to is not None and covered_to != date.max and rule.effective_from > covered_to + timedelta(1):
                start, end = covered_to + timedelta(1), rule.effective_from - timedelta(1)
                problems.append(Problem("base_fee_gap", f"{service} has no base fee from {start} to {end}",
                                        (rule.key,), params={"service": service, "start": start.isoformat(),
                                                             "end": end.isoformat()}))
            end = rule.effective_to or date.max
            covered_to = end if covered_to is None else max(covered_to, end)
    return problems


def _conflict(first: RuleDefinition, second: RuleDefinition) -> bool:
    if first.rule_id == second.rule_id or first.service != second.service or first.layer != second.layer:
        return False
    if first.priority != second.priority or first.effects == second.effects:
        return False
    return _windows_meet(first, second) and conditions_can_all_hold((*first.conditions, *second.conditions))


def conditions_can_all_hold(conditions: Iterable[Condition]) -> bool:
    """True when some facts satisfy every condition at once (decided exactly per field type)."""
    by_field: dict[str, list[Condition]] = {}
    for condition in conditions:
        by_field.setdefault(condition.field, []).append(condition)
    return all(_field_satisfiable(name, group) for name, group in by_field.items())


def _field_satisfiable(name: str, conditions: list[Condition]) -> bool:
    declared = FIELDS[name]
    if len({c.code_list for c in conditions}) > 1:
        return False  # the facts carry one code list: codes from two lists cannot both match
    if declared.type == SET:
        return _set_satisfiable(conditions)
    if declared.type == INT:
        candidates: set | None = set(range(declared.minimum, declared.maximum + 1))
    else:
        candidates = set(declared.values) if declared.values else None  # None: an open set of codes
    excluded: set = set()
    for condition in conditions:
        allowed = _allowed(condition)
        if allowed is None:
            excluded |= _excluded(condition)
        else:
            candidates = allowed if candidates is None else candidates & allowed
    return candidates is None or bool(candidates - excluded)


def _allowed(condition: Condition) -> set | None:
    op, value = condition.op, condition.value
    if op == "eq":
        return {value}
    if op == "in":
        return set(value)
    declared = FIELDS[condition.field]
    low, high = declared.minimum, declared.maximum
    if op == "between":
        low, high = value
    elif op in ("lt", "le"):
        high = value - 1 if op == "lt" else value
    elif op in ("gt", "ge"):
        low = value + 1 if op == "gt" else value
    else:
        return None  # ne / not_in exclude values instead
    return set(range(low, high + 1))


def _excluded(condition: Condition) -> set:
    return {condition.value} if condition.op == "ne" else set(condition.value)


def _set_satisfiable(conditions: list[Condition]) -> bool:
    required = {v for c in conditions if c.op == "has_all" for v in c.value}
    forbidden = {v for c in conditions if c.op == "has_none" for v in c.value}
    if required & forbidden:
        return False
    return all(set(c.value) - forbidden for c in conditions if c.op == "has_any")


def _unknown_codes(rule: RuleDefinition, known_codes: Mapping[str, set[str]]) -> list[Problem]:
    problems = []
    for condition in rule.conditions:
        if condition.field != "residence.province_code":
            continue
        codes = set(condition.value) if isinstance(condition.value, tuple) else {condition.value}
        known = known_codes.get(condition.code_list or "")
        if known is None:
            problems.append(Problem("unknown_code", f"{rule.key} uses code list {condition.code_list}, which is not "
                                                    "loaded", (rule.key,),
                                    params={"rule": rule.key, "code_list": condition.code_list},
                                    message_id="unknown_code_list"))
        elif codes - known:
            unknown = ", ".join(sorted(codes - known))
            problems.append(Problem("unknown_code", f"{rule.key} uses province code(s) {unknown} not in "
                                                    f"{condition.code_list}", (rule.key,),
                                    params={"rule": rule.key, "codes": unknown, "code_list": condition.code_list}))
    return problems
