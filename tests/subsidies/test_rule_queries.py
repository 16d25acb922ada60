"""The editor's read side: rules in force on a chosen day, a rule's history, a diff between versions."""

from __future__ import annotations

from datetime import date

from subsidies.rule_queries import Change, diff_versions, history, rules_in_force


def test_rules_in_force_on_a_chosen_day(seeded):
    keys = {(row.rule_id, row.version) for row in rules_in_force(seeded, date(2024, 7, 1), "LLTP")}
    assert ("HN-LLTP-VNEID", 1) in keys and ("HN-LLTP-VNEID", 2) not in keys
    assert ("LLTP-BASE-ONLINE-2025", 1) not in keys, "drafts are not in force"
    later = {(row.rule_id, row.version) for row in rules_in_force(seeded, date(2025, 1, 1), "LLTP")}
    assert ("HN-LLTP-VNEID", 2) in later and ("HN-LLTP-VNEID", 1) not in later


def test_a_rule_history_lists_versions_with_their_audit_events(seeded):
    versions = history(seeded, "HN-LLTP-VNEID")
    assert [row.version for row, _events in versions] == [1, 2]
    assert [event.action for event in versions[0][1]] == ["created", "published"]


def test_a_diff_names_each_changed_value(seeded):
    (first, _), (second, _) = history(seeded, "HN-LLTP-VNEID")
    changes = {change.path: change for change in diff_versions(first.definition, second.definition)}
    assert changes["effective_from"] == Change("effective_from", "2024-06-01", "2025-01-01")
    assert changes["budget_fund"].after == "HN-LLTP-2025"
    assert "legal_basis[1].doc" in changes and changes["legal_basis[1].doc"].before is None
    assert "conditions[0].value" not in changes
