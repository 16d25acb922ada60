"""YAML import and export through the database; unsafe YAML is refused by the loader."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from subsidies.errors import RuleInvalid
from subsidies.exchange import export_yaml, import_yaml_drafts
from subsidies.rule_store import RuleVersion
from subsidies.yaml_io import load_rule_files, parse_rules_yaml


def test_export_of_the_published_rules_reads_back_to_the_seed(seeded):
    exported = {r.definition.key: r.definition for r in parse_rules_yaml(export_yaml(seeded))}
    seed = {r.definition.key: r.definition for r in load_rule_files() if r.status == "published"}
    assert exported == seed


def test_an_import_creates_drafts_with_the_next_versions(seeded, clock):
    text = export_yaml(seeded).replace("status: published", "status: draft")
    rows = import_yaml_drafts(seeded, text, "editor", clock=clock)
    assert {row.status for row in rows} == {"draft"}
    hanoi = sorted(row.version for row in rows if row.rule_id == "HN-LLTP-VNEID")
    assert hanoi == [3, 4]
    assert seeded.scalar(select(RuleVersion.author_id).where(RuleVersion.id == rows[0].id)) == "editor"


def test_a_file_with_one_bad_rule_imports_nothing(seeded, clock):
    text = export_yaml(seeded).replace("op: ge", "op: approximately", 1)
    before = len(seeded.scalars(select(RuleVersion)).all())
    with pytest.raises(RuleInvalid, match="approximately"):
        import_yaml_drafts(seeded, text, "editor", clock=clock)
    assert len(seeded.scalars(select(RuleVersion)).all()) == before


def test_yaml_that_would_build_python_objects_is_refused():
    with pytest.raises(RuleInvalid, match="not valid YAML"):
        parse_rules_yaml("rules:\n  - !!python/object/apply:os.system ['echo hi']\n")
