"""After any sequence of drafts, successors, publications and retirements, one rule's versions never overlap."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import combinations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from core.geography import seed_provinces
from subsidies import workflow
from subsidies.compiler import CompiledRuleSet, rule_set_hash
from subsidies.errors import RetireRefused, RuleNotReady
from subsidies.rule_store import RuleSetRecord, RuleVersion, current_rule_set, effective_definitions, published_rows

RULE = "PROP-TLHT-VNEID"
FIRST_DAY = date(2026, 1, 1)
offsets = st.integers(min_value=0, max_value=40)
lengths = st.none() | st.integers(min_value=0, max_value=30)


def _data(start: date, length: int | None) -> dict:
    return {"rule_id": RULE, "service": "TLHT", "layer": "national", "title": {"vi": RULE, "en": RULE},
            "effective_from": start.isoformat(),
            "effective_to": (start + timedelta(days=length)).isoformat() if length is not None else None,
            "legal_basis": [{"doc": "1/2026 (example)", "issuer": "x", "date": "2025-12-01", "article": "1"}],
            "conditions": [{"field": "channel", "op": "eq", "value": "VNEID"}],
            "effects": [{"type": "amount_off", "amount": 1000}]}


@pytest.fixture()
def policy(seeded, clock):
    """Seeded, with provinces; the clock stands before every generated start (one approver suffices)."""
    seed_provinces(seeded)
    clock.set(clock.now().replace(year=2025, month=12, day=15))
    return seeded


def test_published_versions_of_a_rule_never_overlap(policy, clock):
    class Versions(RuleBasedStateMachine):
        """Random drafts (some replacing a version), publications and retirements through the real workflow."""

        def __init__(self):
            super().__init__()
            self.savepoint = policy.begin_nested()
            self.rows: list[RuleVersion] = []

        def _publish(self, data: dict, replaces: RuleVersion | None) -> RuleVersion:
            row = workflow.create_draft(policy, data, "editor", clock,
                                        replaces_id=replaces.id if replaces is not None else None)
            self.rows.append(row)
            workflow.attach_simulation(policy, row.id, {"cases": 0}, "editor", clock=clock)
            workflow.submit(policy, row.id, "editor", clock=clock)
            workflow.approve(policy, row.id, "approver", clock=clock)
            return workflow.publish(policy, row.id, "approver", clock=clock)

        def _published(self) -> list[tuple[RuleVersion, object]]:
            rows = published_rows(policy)
            return [(row, rule) for row, rule in zip(rows, effective_definitions(rows), strict=True)
                    if row.rule_id == RULE]

        @initialize()
        def publish_an_open_ended_first_version(self):
            self._publish(_data(FIRST_DAY, None), None)

        @rule(offset=offsets, length=lengths, replaces=st.none() | st.integers(min_value=0))
        def draft_and_try_to_publish(self, offset, length, replaces):
            source = self.rows[replaces % len(self.rows)] if replaces is not None else None
            try:
                self._publish(_data(FIRST_DAY + timedelta(days=offset), length), source)
            except RuleNotReady:
                pass  # refused by a check: nothing was published

        @precondition(lambda self: self._published())
        @rule(step=st.integers(min_value=1, max_value=30), length=lengths)
        def a_successor_of_the_latest_version_is_always_published(self, step, length):
            latest_row, latest = max(self._published(), key=lambda pair: pair[1].effective_from)
            row = self._publish(_data(latest.effective_from + timedelta(days=step), length), latest_row)
            assert row.status == "published"

        @precondition(lambda self: self._published())
        @rule(index=st.integers(min_value=0))
        def retire_a_published_version(self, index):
            published = self._published()
            try:
                workflow.retire(policy, published[index % len(published)][0].id, "approver", "test", clock=clock)
            except RetireRefused:
                pass

        @invariant()
        def windows_are_not_empty_and_never_meet(self):
            rules = [rule for _row, rule in self._published()]
            assert all(r.effective_to is None or r.effective_to >= r.effective_from for r in rules)
            for a, b in combinations(rules, 2):
                end_a, end_b = a.effective_to or date.max, b.effective_to or date.max
                apart = end_a < b.effective_from or end_b < a.effective_from
                assert apart, (a.key, a.effective_from, a.effective_to, b.key, b.effective_from, b.effective_to)

        @invariant()
        def a_version_is_replaced_by_one_published_successor_at_most(self):
            replaced = [row.replaces_id for row, _rule in self._published() if row.replaces_id is not None]
            assert len(replaced) == len(set(replaced))

        @invariant()
        def every_recorded_rule_set_still_hashes_as_recorded(self):
            for record in policy.scalars(select(RuleSetRecord)):
                rows = policy.scalars(select(RuleVersion).where(RuleVersion.id.in_(record.rule_version_ids)))
                assert CompiledRuleSet(effective_definitions(rows)).hash == record.hash
            assert current_rule_set(policy).hash == rule_set_hash(effective_definitions(published_rows(policy)))

        def teardown(self):
            self.savepoint.rollback()

    run_state_machine_as_test(Versions, settings=settings(
        max_examples=20, stateful_step_count=10, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
