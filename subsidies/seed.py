"""Seed the catalogue, funds, categories and the YAML rules; every seeder is idempotent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from subsidies.beneficiaries import seed_categories
from subsidies.budgets import seed_funds
from subsidies.catalogue import seed_services
from subsidies.rule_store import RuleVersion, add_version, log_event, snapshot_rule_set
from subsidies.yaml_io import LoadedRule, load_catalogue, load_rule_files

#: Seed rules were written and reviewed in the repository; these ids record that in the audit trail
#: and keep the database's author-is-not-approver check meaningful.
SEED_AUTHOR = "seed:repository"
SEED_APPROVER = "seed:code-review"


def seed_catalogue(session: Session) -> int:
    """Services with their agencies, subsidy funds and beneficiary categories."""
    catalogue = load_catalogue()
    return seed_services(session, catalogue["services"]) + seed_funds(session, catalogue["funds"]) + \
        seed_categories(session)


def seed_rules(session: Session, loaded: list[LoadedRule] | None = None, clock: Clock = SYSTEM_CLOCK) -> int:
    """Store rule versions from the YAML files that are missing, publish those marked so, snapshot the set."""
    loaded = load_rule_files() if loaded is None else loaded
    existing = {tuple(row) for row in session.execute(select(RuleVersion.rule_id, RuleVersion.version))}
    added = 0
    for item in loaded:
        definition = item.definition
        if (definition.rule_id, definition.version) in existing:
            continue
        row = add_version(session, definition, author_id=SEED_AUTHOR, clock=clock)
        if item.status == "published":
            row.approver_id, row.status, row.published_at = SEED_APPROVER, "published", clock.now()
            session.flush()
            log_event(session, row, "published", "draft", "published", SEED_APPROVER,
                      note=f"seeded from subsidies/rules/{item.source}", clock=clock)
        added += 1
    if added:
        snapshot_rule_set(session, SEED_APPROVER, clock)
    return added
