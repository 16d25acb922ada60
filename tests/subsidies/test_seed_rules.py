"""The seed rule files load, export and reload unchanged, and their attached tests pass."""

from __future__ import annotations

from subsidies.compiler import CompiledRuleSet
from subsidies.rule_tests import run_attached_tests
from subsidies.yaml_io import dump_rules, load_rule_files, parse_rules_yaml

SEED = load_rule_files()


def test_seed_files_hold_the_expected_rules():
    keys = {rule.definition.key for rule in SEED}
    assert {"LLTP-BASE@1", "LLTP-REDUCED@1", "HN-LLTP-VNEID@1", "HN-LLTP-VNEID@2", "TLHT-BASE@1",
            "PARK-HN-CAR@1", "PARK-HCM-MOTORBIKE-DAY@1"} <= keys
    drafts = {rule.definition.rule_id for rule in SEED if rule.status == "draft"}
    assert drafts == {"LLTP-BASE-ONLINE-2025", "LLTP-REDUCED-ONLINE-2025"}


def test_unconfirmed_citations_are_marked_verify():
    by_key = {rule.definition.key: rule.definition for rule in SEED}
    assert all(basis.verify for basis in by_key["LLTP-BASE-ONLINE-2025@1"].legal_basis)
    assert [basis.verify for basis in by_key["HN-LLTP-VNEID@2"].legal_basis] == [False, True]
    assert not any(basis.verify for basis in by_key["HN-LLTP-VNEID@1"].legal_basis)


def test_attached_tests_pass_on_the_published_seed():
    published = [rule.definition for rule in SEED if rule.status == "published"]
    results = run_attached_tests(CompiledRuleSet(published), published)
    assert len(results) >= 10
    assert [r for r in results if not r.passed] == []


def test_yaml_export_reloads_to_the_same_rule_set():
    definitions = [rule.definition for rule in SEED]
    reloaded = [rule.definition for rule in parse_rules_yaml(dump_rules(definitions))]
    assert reloaded == sorted(definitions, key=lambda d: (d.rule_id, d.version)) or reloaded == definitions
    assert CompiledRuleSet(reloaded).hash == CompiledRuleSet(definitions).hash


def test_the_rule_set_hash_ignores_order_but_not_content():
    definitions = [rule.definition for rule in SEED if rule.status == "published"]
    assert CompiledRuleSet(definitions).hash == CompiledRuleSet(reversed(definitions)).hash
    assert CompiledRuleSet(definitions[1:]).hash != CompiledRuleSet(definitions).hash
