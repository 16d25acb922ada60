"""Successor versions (issue 12): a new version of a published rule ends it on publication, guarded and audited."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from threading import Barrier

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from core.clock import VIETNAM, FixedClock
from core.geography import seed_provinces
from subsidies import quotes, workflow
from subsidies.compiler import CompiledRuleSet
from subsidies.errors import RetireRefused, RuleImmutable, RuleNotReady
from subsidies.exchange import export_yaml
from subsidies.facts import decision_instant
from subsidies.rule_queries import ended_early, rules_in_force
from subsidies.rule_store import RuleEvent, RuleVersion, current_rule_set, published_definitions
from subsidies.seed import seed_catalogue, seed_rules
from subsidies.yaml_io import parse_rules_yaml

#: The national reduction for students (open-ended since 2017) becomes 120,000 đ off from 2026.
STUDENT_2026 = {"name": "a student pays 80,000 from 2026",
                "given": {"service": "LLTP", "decision_date": "2026-01-05", "channel": "COUNTER",
                          "birthdate": "2003-01-01", "categories": ["STUDENT"]},
                "expect": {"amount_due": 80000}}


@pytest.fixture()
def policy(seeded, clock):
    """A seeded database with provinces; the clock stands in 2025-12-15 (a 2026 start is not retroactive)."""
    seed_provinces(seeded)
    clock.set(clock.now().replace(year=2025, month=12, day=15))
    return seeded


def _version(session, rule_id: str, version: int = 1) -> RuleVersion:
    return session.scalars(select(RuleVersion).where(RuleVersion.rule_id == rule_id,
                                                     RuleVersion.version == version)).one()


def _new_version_of(row: RuleVersion, **changes) -> dict:
    """The editor's copy of ``row`` (``?from=``) with ``changes``; the service assigns the version."""
    data = {key: value for key, value in row.definition.items() if key != "version"}
    return {**data, **changes}


def _reduction_2026(row: RuleVersion, start: str = "2026-01-01") -> dict:
    return _new_version_of(row, effective_from=start, effects=[{"type": "amount_off", "amount": 120000}],
                           tests=[*row.definition["tests"], STUDENT_2026])


def _submitted(session, clock, data, replaces: RuleVersion | None = None) -> RuleVersion:
    row = workflow.create_draft(session, data, "editor", clock, replaces_id=replaces.id if replaces else None)
    workflow.simulate_version(session, row.id, date(2025, 12, 1), date(2025, 12, 1), "editor", clock=clock)
    workflow.submit(session, row.id, "editor", clock=clock)
    return row


def _published_version(session, clock, data, replaces: RuleVersion | None = None) -> RuleVersion:
    row = _submitted(session, clock, data, replaces)
    workflow.approve(session, row.id, "approver", clock=clock)
    return workflow.publish(session, row.id, "approver", clock=clock)


def _student(hanoi_request, day: date):
    return hanoi_request(channel="COUNTER", birthdate=date(2003, 1, 1), categories=frozenset({"STUDENT"}),
                         decision_at=decision_instant(datetime(day.year, day.month, day.day, 10, tzinfo=VIETNAM)))


def _actions(session, row: RuleVersion) -> list[tuple[str, str | None]]:
    return [(e.action, e.note) for e in session.scalars(select(RuleEvent).where(RuleEvent.rule_version_id == row.id)
                                                         .order_by(RuleEvent.id))]


def _in_force(session, rule_id: str) -> dict[int, tuple[date, date | None]]:
    return {d.version: (d.effective_from, d.effective_to) for _id, d in published_definitions(session)
            if d.rule_id == rule_id}


def _codes(caught) -> list[str]:
    return [problem["code"] for problem in caught.value.details["problems"]]


def test_a_new_version_of_an_open_ended_rule_is_approved_by_another_person_and_ends_it(policy, clock, hanoi_request):
    old = _version(policy, "LLTP-REDUCED")
    assert old.effective_to is None
    row = _submitted(policy, clock, _reduction_2026(old), replaces=old)
    assert row.replaces_id == old.id
    assert workflow.publication_problems(policy, row) == []
    workflow.approve(policy, row.id, "approver", clock=clock)
    workflow.publish(policy, row.id, "approver", clock=clock)
    assert row.status == "published"
    assert _in_force(policy, "LLTP-REDUCED") == {1: (date(2017, 1, 1), date(2025, 12, 31)),
                                                 2: (date(2026, 1, 1), None)}
    assert policy.get(RuleVersion, old.id).definition["effective_to"] is None, "the stored version never changes"
    ended = ("ended", "last day in force 2025-12-31: replaced by LLTP-REDUCED@2 from 2026-01-01")
    assert ended in _actions(policy, old)
    assert quotes.preview(policy, _student(hanoi_request, date(2025, 12, 31))).amount_due == 100000
    assert quotes.preview(policy, _student(hanoi_request, date(2026, 1, 1))).amount_due == 80000
    assert [r.version for r in rules_in_force(policy, date(2026, 1, 1), "LLTP") if r.rule_id == "LLTP-REDUCED"] == [2]
    assert [r.version for r in rules_in_force(policy, date(2025, 12, 31), "LLTP")
            if r.rule_id == "LLTP-REDUCED"] == [1]
    assert ended_early(policy) == {old.id: date(2025, 12, 31)}


def test_the_editor_is_told_before_approval_what_publishing_will_end(policy, clock):
    old = _version(policy, "LLTP-REDUCED")
    row = _submitted(policy, clock, _reduction_2026(old), replaces=old)
    plan = workflow.succession_for(policy, row)
    assert (plan.predecessor, plan.start, plan.end, plan.new_end) == ("LLTP-REDUCED@1", date(2017, 1, 1), None,
                                                                      date(2025, 12, 31))
    workflow.approve(policy, row.id, "approver", clock=clock)
    assert workflow.succession_for(policy, row).new_end == date(2025, 12, 31), "approved: still ahead"
    workflow.publish(policy, row.id, "approver", clock=clock)
    assert workflow.succession_for(policy, row) is None, "published: nothing left to announce"


def test_a_quote_pinned_before_the_successor_still_replays_and_retiring_it_brings_the_old_set_back(
        policy, clock, hanoi_request):
    before = current_rule_set(policy).hash
    pinned = quotes.create_quote(policy, _student(hanoi_request, date(2026, 2, 1)), clock=clock)
    assert pinned.amount_due == 100000
    old = _version(policy, "LLTP-REDUCED")
    row = _published_version(policy, clock, _reduction_2026(old), replaces=old)
    assert current_rule_set(policy).hash != before
    assert quotes.replays_identically(policy, pinned), "the older set still hashes and prices as it did"
    workflow.retire(policy, row.id, "approver", "published by mistake", clock=clock)
    assert current_rule_set(policy).hash == before
    assert _in_force(policy, "LLTP-REDUCED") == {1: (date(2017, 1, 1), None)}
    assert ("end_withdrawn", "in force again until open-ended: its successor LLTP-REDUCED@2 was retired") in \
        _actions(policy, old)


def test_the_yaml_export_carries_the_new_end_so_the_file_seeds_the_same_rule_set(policy, clock):
    old = _version(policy, "LLTP-REDUCED")
    _published_version(policy, clock, _reduction_2026(old), replaces=old)
    exported = {item.definition.key: item.definition for item in parse_rules_yaml(export_yaml(policy))}
    assert exported["LLTP-REDUCED@1"].effective_to == date(2025, 12, 31)
    assert CompiledRuleSet(exported.values()).hash == current_rule_set(policy).hash


@pytest.mark.parametrize("start", ["2017-01-01", "2016-06-01"])
def test_a_successor_starting_on_or_before_its_predecessor_is_refused_with_what_to_do(policy, clock, start):
    old = _version(policy, "LLTP-REDUCED")
    row = _submitted(policy, clock, _reduction_2026(old, start=start), replaces=old)
    with pytest.raises(RuleNotReady) as caught:
        workflow.approve(policy, row.id, "approver", clock=clock)
    problem = caught.value.details["problems"][0]
    assert caught.value.code == "rule_not_ready" and problem["code"] == "successor_starts_too_early"
    assert problem["params"] == {"rule": "LLTP-REDUCED@2", "predecessor": "LLTP-REDUCED@1", "start": start,
                                 "predecessor_start": "2017-01-01"}
    assert workflow.succession_for(policy, row).starts_too_early


def test_a_draft_overlapping_a_version_it_does_not_replace_is_still_refused(policy, clock):
    old = _version(policy, "LLTP-REDUCED")
    unrelated = _submitted(policy, clock, _reduction_2026(old))
    assert unrelated.replaces_id is None
    with pytest.raises(RuleNotReady, match="both in force on 2026-01-01") as caught:
        workflow.approve(policy, unrelated.id, "approver", clock=clock)
    assert _codes(caught) == ["window_overlap"]
    # Replacing the 2024 Hà Nội support with an open end would run into the 2025 version it does not replace.
    hanoi_2024, hanoi_2025 = _version(policy, "HN-LLTP-VNEID", 1), _version(policy, "HN-LLTP-VNEID", 2)
    longer = _submitted(policy, clock, _new_version_of(hanoi_2024, effective_from="2024-09-01", effective_to=None,
                                                       tests=[]), replaces=hanoi_2024)
    problems = workflow.publication_problems(policy, longer)
    assert [(p.code, p.rules) for p in problems] == [("window_overlap", (hanoi_2025.key, longer.key))]


def test_a_predecessor_that_already_ends_earlier_is_left_alone(policy, clock):
    hanoi_2025 = _version(policy, "HN-LLTP-VNEID", 2)
    data = _new_version_of(hanoi_2025, effective_from="2026-01-01", effective_to="2026-12-31", tests=[],
                           budget_fund=None)
    row = _submitted(policy, clock, data, replaces=hanoi_2025)
    assert workflow.succession_for(policy, row).new_end is None
    workflow.approve(policy, row.id, "approver", clock=clock)
    workflow.publish(policy, row.id, "approver", clock=clock)
    assert _in_force(policy, "HN-LLTP-VNEID")[2] == (date(2025, 1, 1), date(2025, 12, 31))
    assert "ended" not in [action for action, _note in _actions(policy, hanoi_2025)]
    assert ended_early(policy) == {}


def test_a_predecessor_with_an_end_after_the_successor_starts_is_cut_short(policy, clock):
    hanoi_2025 = _version(policy, "HN-LLTP-VNEID", 2)
    data = _new_version_of(hanoi_2025, effective_from="2025-12-20", effective_to="2026-12-31", tests=[])
    _published_version(policy, clock, data, replaces=hanoi_2025)
    assert _in_force(policy, "HN-LLTP-VNEID")[2] == (date(2025, 1, 1), date(2025, 12, 19))


def test_a_version_is_ended_once_a_second_successor_is_refused_at_publication(policy, clock):
    old = _version(policy, "LLTP-REDUCED")
    first = _submitted(policy, clock, _reduction_2026(old), replaces=old)
    second = _submitted(policy, clock, _reduction_2026(old, start="2026-01-02"), replaces=old)
    for row in (first, second):
        workflow.approve(policy, row.id, "approver", clock=clock)
    workflow.publish(policy, first.id, "approver", clock=clock)
    with pytest.raises(RuleNotReady) as caught:
        workflow.publish(policy, second.id, "approver", clock=clock)
    assert "predecessor_replaced" in _codes(caught)
    assert second.status == "approved"


def test_only_a_published_version_of_the_same_rule_is_replaced(policy, clock):
    old = _version(policy, "LLTP-REDUCED")
    copy = workflow.create_draft(policy, {**_reduction_2026(old), "rule_id": "LLTP-REDUCED-COPY"}, "editor", clock,
                                 replaces_id=old.id)
    draft = workflow.create_draft(policy, _reduction_2026(old), "editor", clock)
    of_a_draft = workflow.create_draft(policy, _reduction_2026(old), "editor", clock, replaces_id=draft.id)
    assert (copy.replaces_id, of_a_draft.replaces_id) == (None, None)


def test_retiring_a_successor_is_refused_when_its_predecessor_would_overlap_a_later_version(policy, clock):
    old = _version(policy, "LLTP-REDUCED")
    closed = _published_version(policy, clock, {**_reduction_2026(old), "effective_to": "2026-12-31"}, replaces=old)
    later = _published_version(policy, clock, _new_version_of(old, effective_from="2027-01-01", tests=[]))
    with pytest.raises(RetireRefused) as caught:
        workflow.retire(policy, closed.id, "approver", "mistake", clock=clock)
    assert caught.value.details["problems"][0]["params"] == {"rule": closed.key, "predecessor": old.key,
                                                             "other": later.key}
    assert closed.status == "published"


def test_the_version_a_draft_replaces_is_frozen_with_it(policy, clock):
    old = _version(policy, "LLTP-REDUCED")
    row = _published_version(policy, clock, _reduction_2026(old), replaces=old)
    row.replaces_id = None
    with pytest.raises(RuleImmutable):
        policy.flush()
    policy.rollback()


def test_the_database_refuses_changing_what_a_published_version_replaces(policy, clock):
    old = _version(policy, "LLTP-REDUCED")
    row = _published_version(policy, clock, _reduction_2026(old), replaces=old)
    with pytest.raises(DatabaseError), policy.begin_nested():
        policy.execute(text("UPDATE rule_versions SET replaces_id = NULL WHERE id = :id"), {"id": row.id})


def test_two_successors_published_at_once_end_their_predecessor_once(committed_db, session_factory):
    clock = FixedClock(datetime(2025, 12, 15, 9, tzinfo=VIETNAM))
    with committed_db() as session, session.begin():
        seed_provinces(session)
        seed_catalogue(session)
        seed_rules(session, clock=clock)
        old = _version(session, "LLTP-REDUCED")
        rows = [_submitted(session, clock, _reduction_2026(old, start=start), replaces=old)
                for start in ("2026-01-01", "2026-01-02")]
        for row in rows:
            workflow.approve(session, row.id, "approver", clock=clock)
        ids, old_id = [row.id for row in rows], old.id
    start = Barrier(2)

    def publish(row_id: int) -> str:
        with session_factory() as session:
            start.wait()  # both begin together, so the second really meets the first's lock
            try:
                with session.begin():
                    workflow.publish(session, row_id, "approver", clock=clock)
            except RuleNotReady as refused:
                return ",".join(problem["code"] for problem in refused.details["problems"])
            return "published"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(publish, ids))
    assert outcomes[1] == "published" and "predecessor_replaced" in outcomes[0].split(","), outcomes
    with committed_db() as session:
        ended = session.scalars(select(RuleEvent).where(RuleEvent.rule_version_id == old_id,
                                                        RuleEvent.action == "ended")).all()
        assert len(ended) == 1
        statuses = sorted(session.get(RuleVersion, row_id).status for row_id in ids)
        assert statuses == ["approved", "published"]
