"""Rules in the database: seeding, rule-set snapshots, immutability and maker-checker in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from subsidies.errors import RuleImmutable
from subsidies.rule_store import RuleEvent, RuleSetRecord, RuleVersion, current_rule_set
from subsidies.seed import seed_catalogue, seed_rules
from subsidies.yaml_io import load_rule_files


def test_seeding_twice_adds_nothing_the_second_time(seeded, clock):
    assert seed_catalogue(seeded) == 0
    assert seed_rules(seeded, clock=clock) == 0
    assert seeded.scalar(select(func.count()).select_from(RuleSetRecord)) == 1


def test_the_current_rule_set_is_the_published_seed(seeded):
    published = [r.definition for r in load_rule_files() if r.status == "published"]
    rule_set = current_rule_set(seeded)
    assert list(rule_set.definitions) == sorted(published, key=lambda d: (d.rule_id, d.version))
    drafts = seeded.scalars(select(RuleVersion.rule_id).where(RuleVersion.status == "draft")).all()
    assert sorted(drafts) == ["LLTP-BASE-ONLINE-2025", "LLTP-REDUCED-ONLINE-2025"]


def test_every_seeded_version_has_an_audit_trail(seeded):
    published = seeded.scalars(select(RuleVersion).where(RuleVersion.status == "published")).all()
    for row in published:
        actions = seeded.scalars(select(RuleEvent.action).where(RuleEvent.rule_version_id == row.id)).all()
        assert actions == ["created", "published"]


def test_a_published_version_cannot_be_edited_through_the_orm(seeded):
    row = seeded.scalar(select(RuleVersion).where(RuleVersion.rule_id == "LLTP-BASE"))
    row.definition = {**row.definition, "priority": 5}
    with pytest.raises(RuleImmutable):
        seeded.flush()
    seeded.rollback()


def test_a_published_version_cannot_be_edited_with_direct_sql(seeded):
    with pytest.raises(DatabaseError), seeded.begin_nested():
        seeded.execute(text("UPDATE rule_versions SET effective_to = effective_from WHERE rule_id = 'LLTP-BASE'"))


def test_the_author_cannot_approve_even_with_direct_sql(seeded):
    with pytest.raises(DatabaseError), seeded.begin_nested():
        seeded.execute(text("UPDATE rule_versions SET approver_id = author_id "
                            "WHERE rule_id = 'LLTP-BASE-ONLINE-2025'"))


def test_the_audit_trail_cannot_be_rewritten(seeded):
    with pytest.raises(DatabaseError), seeded.begin_nested():
        seeded.execute(text("UPDATE rule_events SET actor_id = 'someone-else'"))
