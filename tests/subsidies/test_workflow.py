"""The policy workflow: maker-checker, readiness checks, retroactive second approval, audit trail, effect on quotes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core.geography import seed_provinces
from subsidies import quotes, workflow
from subsidies.errors import AuthorCannotApprove, RuleImmutable, WorkflowRefused
from subsidies.rule_store import RuleEvent, RuleVersion, current_rule_set

#: Hà Nội extends its VNeID support to 2026 (an illustrative policy change, not a real resolution).
EXTENSION_2026 = {
    "rule_id": "HN-LLTP-VNEID", "service": "LLTP", "layer": "local", "priority": 0,
    "title": {"vi": "Hà Nội hỗ trợ phí LLTP qua VNeID (2026)", "en": "Hà Nội pays the LLTP fee via VNeID (2026)"},
    "effective_from": "2026-01-01", "effective_to": "2026-12-31",
    "legal_basis": [{"doc": "99/2025/NQ-HĐND (example)", "issuer": "HĐND thành phố Hà Nội", "date": "2025-12-10",
                     "article": "Điều 1"}],
    "conditions": [{"field": "channel", "op": "eq", "value": "VNEID"},
                   {"field": "residence.province_code", "op": "eq", "value": "01", "code_list": "QD19/2025"},
                   {"field": "eid_level", "op": "ge", "value": 2}],
    "unless_layer_applied": "national",
    "effects": [{"type": "amount_off", "amount": 200000}],
    "tests": [{"name": "covered in 2026", "given": {"service": "LLTP", "decision_date": "2026-03-02",
                                                   "channel": "VNEID", "residence_province_code": "01",
                                                   "eid_level": 2, "birthdate": "1990-01-01"},
               "expect": {"amount_due": 0}}],
}


@pytest.fixture()
def policy(seeded, clock):
    """A seeded database with provinces (for code checks); the clock stands in 2025-12-15."""
    seed_provinces(seeded)
    clock.set(clock.now().replace(year=2025, month=12, day=15))
    return seeded


def _ready_draft(session, clock, data=EXTENSION_2026):
    row = workflow.create_draft(session, data, author_id="editor", clock=clock)
    workflow.simulate_version(session, row.id, date(2024, 1, 1), date(2026, 12, 31), "editor", clock=clock)
    workflow.submit(session, row.id, "editor", clock=clock)
    return row


def test_a_draft_gets_the_next_version_number(policy, clock):
    row = workflow.create_draft(policy, EXTENSION_2026, author_id="editor", clock=clock)
    assert (row.rule_id, row.version, row.status) == ("HN-LLTP-VNEID", 3, "draft")


def test_the_author_cannot_approve_their_own_change(policy, clock):
    row = _ready_draft(policy, clock)
    with pytest.raises(AuthorCannotApprove):
        workflow.approve(policy, row.id, "editor", clock=clock)
    assert row.status == "in_review" and row.approver_id is None


def test_a_change_goes_from_draft_to_published_and_the_next_quote_explains_it(policy, clock, hanoi_request):
    row = _ready_draft(policy, clock)
    before = current_rule_set(policy).hash
    workflow.approve(policy, row.id, "approver", clock=clock)
    workflow.publish(policy, row.id, "approver", clock=clock)
    assert row.status == "published" and current_rule_set(policy).hash != before
    quote = quotes.create_quote(policy, hanoi_request(decision_at=clock.now().replace(year=2026, month=3)),
                                clock=clock)
    applied = [e for layer in quote.explanation for e in layer["entries"] if e["applied"]]
    assert quote.amount_due == 0
    assert ("HN-LLTP-VNEID", 3) in [(e["rule_id"], e["version"]) for e in applied]
    actions = policy.scalars(select(RuleEvent.action).where(RuleEvent.rule_version_id == row.id)
                             .order_by(RuleEvent.id)).all()
    assert actions == ["created", "simulated", "submit", "approve", "publish"]


def test_approval_needs_a_simulation_report(policy, clock):
    row = workflow.create_draft(policy, EXTENSION_2026, author_id="editor", clock=clock)
    workflow.submit(policy, row.id, "editor", clock=clock)
    with pytest.raises(WorkflowRefused, match="simulation"):
        workflow.approve(policy, row.id, "approver", clock=clock)


def test_approval_needs_green_attached_tests(policy, clock):
    failing = {**EXTENSION_2026, "tests": [{**EXTENSION_2026["tests"][0], "expect": {"amount_due": 5}}]}
    row = _ready_draft(policy, clock, failing)
    with pytest.raises(WorkflowRefused, match="covered in 2026 fails") as caught:
        workflow.approve(policy, row.id, "approver", clock=clock)
    assert caught.value.details["problems"]


def test_approval_refuses_an_overlapping_window_and_unknown_codes(policy, clock):
    overlapping = {**EXTENSION_2026, "effective_from": "2025-12-01"}
    row = _ready_draft(policy, clock, overlapping)
    with pytest.raises(WorkflowRefused, match="both in force"):
        workflow.approve(policy, row.id, "approver", clock=clock)
    unknown = {**EXTENSION_2026, "conditions": [{"field": "residence.province_code", "op": "eq", "value": "99",
                                                 "code_list": "QD19/2025"}], "tests": []}
    row = workflow.create_draft(policy, {**unknown, "rule_id": "HN-OTHER"}, author_id="editor", clock=clock)
    assert any("99" in p.message for p in workflow.publication_problems(policy, row))


def test_a_retroactive_change_needs_a_second_different_approver(policy, clock):
    retro = {**EXTENSION_2026, "rule_id": "HN-RETRO", "priority": 5, "effective_from": "2025-12-01",
             "effective_to": "2025-12-31",
             "tests": []}
    row = _ready_draft(policy, clock, retro)
    workflow.approve(policy, row.id, "approver-1", clock=clock)
    assert row.status == "in_review"
    with pytest.raises(AuthorCannotApprove):
        workflow.approve(policy, row.id, "approver-1", clock=clock)
    workflow.approve(policy, row.id, "approver-2", clock=clock)
    assert (row.status, row.approver_id, row.second_approver_id) == ("approved", "approver-1", "approver-2")


def test_only_drafts_can_be_edited_and_edges_outside_the_table_are_refused(policy, clock):
    row = _ready_draft(policy, clock)
    with pytest.raises(RuleImmutable):
        workflow.update_draft(policy, row.id, EXTENSION_2026, "editor", clock=clock)
    with pytest.raises(WorkflowRefused):
        workflow.publish(policy, row.id, "approver", clock=clock)
    workflow.send_back(policy, row.id, "approver", "cite the article precisely", clock=clock)
    edited = workflow.update_draft(policy, row.id, {**EXTENSION_2026, "priority": 1}, "editor", clock=clock)
    assert edited.definition["priority"] == 1 and edited.simulation_report is None


def test_retiring_brings_back_the_previous_rule_set(policy, clock):
    before = current_rule_set(policy).hash
    row = _ready_draft(policy, clock)
    workflow.approve(policy, row.id, "approver", clock=clock)
    workflow.publish(policy, row.id, "approver", clock=clock)
    workflow.retire(policy, row.id, "approver", "published by mistake", clock=clock)
    assert current_rule_set(policy).hash == before
    assert policy.get(RuleVersion, row.id).status == "retired"
