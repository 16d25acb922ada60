"""Rule data is validated strictly: unknown fields, operators, effects or keys are errors, never silent."""

from __future__ import annotations

import copy

import pytest

from subsidies.errors import RuleInvalid
from subsidies.schema import parse_rule

VALID = {
    "rule_id": "TEST-RULE", "version": 1, "service": "LLTP", "layer": "local",
    "title": {"vi": "Thử", "en": "Test"}, "effective_from": "2024-06-01", "effective_to": "2024-12-31",
    "legal_basis": [{"doc": "11/2024/NQ-HĐND", "issuer": "HĐND", "date": "2024-05-15", "article": "Điều 1"}],
    "conditions": [{"field": "eid_level", "op": "ge", "value": 2},
                   {"field": "residence.province_code", "op": "eq", "value": "01", "code_list": "QD19/2025"}],
    "effects": [{"type": "percent_of_remaining", "percent": 50}],
}


def _with(path: str, value):
    data = copy.deepcopy(VALID)
    target = data
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is KeyError:
        del target[int(last) if last.isdigit() else last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return data


def test_a_valid_rule_parses_and_round_trips():
    rule = parse_rule(VALID)
    assert rule.key == "TEST-RULE@1"
    assert parse_rule(rule.to_dict()) == rule


@pytest.mark.parametrize(("path", "value", "where"), [
    ("conditions.0.field", "salary", "conditions[0].field"),
    ("conditions.0.op", "regex", "conditions[0].op"),
    ("conditions.0.op", "has_any", "conditions[0].op"),
    ("conditions.0.value", "2", "conditions[0].value"),
    ("conditions.0.value", True, "conditions[0].value"),
    ("conditions.0.value", 7, "conditions[0].value"),
    ("conditions.1.value", 1, "conditions[1].value"),
    ("conditions.1.code_list", KeyError, "conditions[1].code_list"),
    ("effects.0.type", "python", "effects[0].type"),
    ("effects.0.type", "set_price", "effects[0].type"),
    ("effects.0.percent", 150, "effects[0].percent"),
    ("effects.0.percent", 0.5, "effects[0].percent"),
    ("effects.0.formula", "amount * 2", "effects[0]"),
    ("legal_basis", [], "legal_basis"),
    ("legal_basis.0.article", "", "legal_basis[0].article"),
    ("legal_basis.0.date", KeyError, "legal_basis[0].date"),
    ("legal_basis.0.url", "javascript:alert(1)", "legal_basis[0].url"),
    ("layer", "city", "layer"),
    ("hit_policy", "any", "hit_policy"),
    ("effective_to", "2024-01-01", "effective_to"),
    ("unless_layer_applied", "local", "unless_layer_applied"),
    ("eval", "__import__('os')", "rule"),
    ("rule_id", "lower case", "rule_id"),
    ("version", 0, "version"),
    ("title", {"vi": "Chỉ tiếng Việt"}, "title"),
])
def test_invalid_rule_data_is_refused_with_its_path(path, value, where):
    with pytest.raises(RuleInvalid) as caught:
        parse_rule(_with(path, value))
    assert caught.value.details["path"] == where
    assert caught.value.code == "rule_invalid"


def test_an_unverified_citation_may_leave_its_date_open():
    data = _with("legal_basis.0.date", None)
    data["legal_basis"][0]["verify"] = True
    assert parse_rule(data).legal_basis[0].date is None


def test_a_base_fee_rule_cannot_collect():
    data = _with("layer", "base")
    data["effects"] = [{"type": "set_price", "amount": 1000}]
    data["hit_policy"] = "collect"
    with pytest.raises(RuleInvalid, match="first hit"):
        parse_rule(data)
