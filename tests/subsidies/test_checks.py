"""Static checks before publishing: conflicts name both rules, windows, gaps, codes and funds."""

from __future__ import annotations

import pytest

from subsidies.checks import check_rule_set, conditions_can_all_hold
from subsidies.definitions import Condition
from subsidies.schema import parse_rule
from subsidies.yaml_io import load_rule_files

PROVINCES = {"QD19/2025": {"01", "79", "48"}}
FUNDS = {"HN-LLTP-2024", "HN-LLTP-2025"}


def _rule(rule_id, *, layer="national", conditions=(), effects=({"type": "exempt"},), priority=0, version=1,
          start="2024-01-01", end=None, fund=None, service="LLTP"):
    return parse_rule({"rule_id": rule_id, "version": version, "service": service, "layer": layer,
                       "priority": priority, "title": {"vi": rule_id, "en": rule_id}, "effective_from": start,
                       "effective_to": end, "legal_basis": [{"doc": "1", "issuer": "x", "date": "2024-01-01",
                                                             "article": "1"}],
                       "conditions": list(conditions), "effects": list(effects), "budget_fund": fund})


def _codes(problems):
    return [(p.code, p.rules) for p in problems]


def test_the_seed_rule_files_pass_every_check():
    assert check_rule_set([r.definition for r in load_rule_files()], known_codes=PROVINCES, known_funds=FUNDS) == []


def test_overlapping_rules_with_different_effects_and_no_priority_are_refused_naming_both():
    students = _rule("RULE-A", conditions=[{"field": "categories", "op": "has_any", "value": ["STUDENT"]}])
    young = _rule("RULE-B", conditions=[{"field": "age", "op": "lt", "value": 25}],
                  effects=[{"type": "amount_off", "amount": 1000}])
    assert _codes(check_rule_set([students, young], known_codes=PROVINCES, known_funds=FUNDS)) == [
        ("conflict", ("RULE-A@1", "RULE-B@1"))]


@pytest.mark.parametrize("change", [
    {"priority": 1},
    {"conditions": [{"field": "categories", "op": "has_none", "value": ["STUDENT"]}]},
    {"start": "2025-01-01"},
    {"layer": "local"},
    {"effects": [{"type": "exempt"}]},
])
def test_no_conflict_when_priority_conditions_dates_layer_or_effect_separate_them(change):
    students = _rule("RULE-A", conditions=[{"field": "categories", "op": "has_any", "value": ["STUDENT"]}],
                     end="2024-12-31")
    other = {"conditions": [{"field": "age", "op": "lt", "value": 25}],
             "effects": [{"type": "amount_off", "amount": 1000}], **change}
    assert check_rule_set([students, _rule("RULE-B", **other)], known_codes=PROVINCES, known_funds=FUNDS) == []


def test_overlapping_windows_of_one_rule_are_refused():
    problems = check_rule_set([_rule("RULE-A", end="2024-12-31"), _rule("RULE-A", version=2, start="2024-12-31")],
                              known_codes=PROVINCES, known_funds=FUNDS)
    assert _codes(problems) == [("window_overlap", ("RULE-A@1", "RULE-A@2"))]


def test_a_gap_in_the_base_fee_is_refused():
    base = {"layer": "base", "effects": [{"type": "set_price", "amount": 1}]}
    problems = check_rule_set([_rule("BASE", end="2024-06-30", **base), _rule("BASE", version=2, start="2024-07-02",
                                                                               **base)],
                              known_codes=PROVINCES, known_funds=FUNDS)
    assert [p.code for p in problems] == ["base_fee_gap"]
    assert "2024-07-01 to 2024-07-01" in problems[0].message


def test_codes_not_in_the_code_list_and_unknown_funds_are_refused():
    rule = _rule("RULE-A", conditions=[{"field": "residence.province_code", "op": "in", "value": ["01", "31"],
                                   "code_list": "QD19/2025"}], fund="NOPE")
    old_list = _rule("RULE-B", conditions=[{"field": "residence.province_code", "op": "eq", "value": "01",
                                       "code_list": "QD124/2004"}], effects=[{"type": "exempt"}])
    problems = check_rule_set([rule, old_list], known_codes=PROVINCES, known_funds=FUNDS)
    assert sorted(p.code for p in problems) == ["unknown_code", "unknown_code", "unknown_fund"]
    assert any("31" in p.message for p in problems)


@pytest.mark.parametrize(("conditions", "possible"), [
    ([("age", "lt", 16), ("age", "ge", 60)], False),
    ([("age", "between", (16, 30)), ("age", "ge", 30)], True),
    ([("age", "in", (10, 20)), ("age", "not_in", (10, 20))], False),
    ([("channel", "eq", "VNEID"), ("channel", "ne", "VNEID")], False),
    ([("channel", "not_in", ("VNEID", "PORTAL")), ("channel", "ne", "COUNTER")], False),
    ([("categories", "has_all", ("STUDENT",)), ("categories", "has_none", ("STUDENT",))], False),
    ([("categories", "has_any", ("STUDENT", "MERITORIOUS")), ("categories", "has_none", ("STUDENT",))], True),
    ([("zone", "eq", "A"), ("zone", "ne", "B")], True),
])
def test_joint_satisfiability_is_decided_exactly(conditions, possible):
    assert conditions_can_all_hold([Condition(f, op, v) for f, op, v in conditions]) is possible
