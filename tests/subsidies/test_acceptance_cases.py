"""The acceptance cases of the research note (section 6), as YAML files run against the seed rule files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from subsidies.compiler import CompiledRuleSet
from subsidies.errors import SubsidyError
from subsidies.evaluator import evaluate
from subsidies.facts import request_from_dict
from subsidies.rule_tests import check_expectations
from subsidies.yaml_io import load_rule_files

CASES_DIR = Path(__file__).parent / "cases"
SEED = load_rule_files()


def _cases():
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            yield pytest.param(case, id=f"{path.stem}: {case['name']}")


def _rule_set(selection: dict | None) -> CompiledRuleSet:
    selection = selection or {}
    statuses = ("published", "draft") if selection.get("with_drafts") else ("published",)
    without = set(selection.get("without", ()))
    return CompiledRuleSet(r.definition for r in SEED if r.status in statuses and r.definition.key not in without)


def _entries(decision):
    return {entry["rule_id"]: entry for layer in decision.explanation for entry in layer["entries"]}


def _explanation_problems(decision, expect) -> list[str]:
    problems = []
    entries = _entries(decision)
    applied = [entry for entry in entries.values() if entry["applied"]]
    cited = {basis["doc"] for entry in applied for basis in entry["legal_basis"]}
    articles = {basis["article"] for entry in applied for basis in entry["legal_basis"]}
    problems += [f"{doc} not cited" for doc in expect.get("cites", ()) if doc not in cited]
    problems += [f"{art} not cited" for art in expect.get("cites_article", ()) if art not in articles]
    for rule_id, amount in (expect.get("amounts") or {}).items():
        if entries[rule_id]["amount"] != amount:
            problems.append(f"{rule_id} amount {entries[rule_id]['amount']}, expected {amount}")
    for lang, key in (("en", "reason_contains"), ("vi", "reason_contains_vi")):
        for rule_id, text in (expect.get(key) or {}).items():
            if text not in entries[rule_id]["reason"][lang]:
                problems.append(f"{rule_id} reason {entries[rule_id]['reason'][lang]!r} lacks {text!r}")
    return problems


@pytest.mark.parametrize("case", list(_cases()))
def test_acceptance_case(case):
    rule_set = _rule_set(case.get("rules"))
    expect = case["expect"]
    try:
        decision = evaluate(rule_set, request_from_dict(case["given"]), case.get("fund_room"))
    except SubsidyError as exc:
        assert expect.get("error") == exc.code, exc.message
        return
    assert "error" not in expect, f"expected {expect['error']}, got amount {decision.amount_due}"
    problems = check_expectations(decision, expect) + _explanation_problems(decision, expect)
    assert not problems, problems


def test_every_explanation_entry_is_bilingual_and_cited():
    decision = evaluate(_rule_set(None), request_from_dict(
        {"service": "LLTP", "decision_date": "2024-07-01", "channel": "VNEID", "birthdate": "1994-03-01",
         "residence_province_code": "01", "eid_level": 2}))
    entries = list(_entries(decision).values())
    assert len(entries) == 8, "every rule of the service is considered, applied or not"
    for entry in entries:
        assert entry["reason"]["vi"] and entry["reason"]["en"]
        assert entry["legal_basis"] and all(basis["doc"] for basis in entry["legal_basis"])
