"""YAML exchange with the database: export rule versions for review, import a file as drafts.

An import never publishes: each rule in the file becomes the next draft version of its rule and goes
through the same review, tests, simulation and approval as one made in the editor.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from subsidies.rule_store import STATUSES, RuleVersion, published_definitions
from subsidies.workflow import create_draft
from subsidies.yaml_io import dump_rules, parse_rules_yaml


def export_yaml(session: Session, statuses: tuple[str, ...] = ("published",)) -> str:
    """YAML of every rule version in ``statuses``, ordered by rule and version, with each one's status."""
    unknown = set(statuses) - set(STATUSES)
    assert not unknown, f"unknown statuses {unknown}"
    rows = session.scalars(select(RuleVersion).where(RuleVersion.status.in_(statuses))
                           .order_by(RuleVersion.rule_id, RuleVersion.version)).all()
    # Published versions go out as in force: one a successor ended carries its new end, so the file seeds
    # back to the same rule set (the file has no notion of successors).
    in_force = dict(published_definitions(session)) if "published" in statuses else {}
    # The file loader reads back only draft and published; other statuses are left out of the file.
    return dump_rules([in_force.get(row.id) or row.parsed() for row in rows],
                      {f"{row.rule_id}@{row.version}": row.status for row in rows
                       if row.status in ("draft", "published")})


def import_yaml_drafts(session: Session, text: str, author_id: str, source: str = "upload",
                       clock: Clock = SYSTEM_CLOCK) -> list[RuleVersion]:
    """Validate the whole file first, then store each rule as a new draft version authored by ``author_id``."""
    loaded = parse_rules_yaml(text, source)
    return [create_draft(session, item.definition.to_dict(), author_id, clock) for item in loaded]
