"""Read-side services for the rules editor: what is in force on a day, a rule's history, version diffs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from subsidies.rule_store import RuleEvent, RuleVersion, effective_definitions, published_rows


@dataclass(frozen=True)
class Change:
    """One difference between two versions: where, the old value and the new one (None when absent)."""

    path: str
    before: Any
    after: Any


def rules_in_force(session: Session, day: date, service_code: str | None = None) -> list[RuleVersion]:
    """Published versions whose inclusive window contains ``day``, by service, layer and rule.

    A version ends the day before a published successor starts (``subsidies.succession``).
    """
    successor = aliased(RuleVersion)
    replaced = select(successor.id).where(
        successor.replaces_id == RuleVersion.id, successor.status == "published",
        successor.effective_from > RuleVersion.effective_from, successor.effective_from <= day).exists()
    query = select(RuleVersion).where(
        RuleVersion.status == "published", RuleVersion.effective_from <= day,
        or_(RuleVersion.effective_to.is_(None), RuleVersion.effective_to >= day), ~replaced)
    if service_code is not None:
        query = query.where(RuleVersion.service_code == service_code)
    return list(session.scalars(query.order_by(RuleVersion.service_code, RuleVersion.layer, RuleVersion.rule_id)))


def ended_early(session: Session) -> dict[int, date]:
    """Row id -> last day in force, for the published versions a published successor ends early."""
    rows = published_rows(session)
    return {row.id: rule.effective_to for row, rule in zip(rows, effective_definitions(rows), strict=True)
            if rule.effective_to != row.effective_to and rule.effective_to is not None}


def history(session: Session, rule_id: str) -> list[tuple[RuleVersion, list[RuleEvent]]]:
    """Every version of ``rule_id`` (oldest first) with its audit events."""
    versions = session.scalars(select(RuleVersion).where(RuleVersion.rule_id == rule_id)
                               .order_by(RuleVersion.version)).all()
    events: dict[int, list[RuleEvent]] = {row.id: [] for row in versions}
    for event in session.scalars(select(RuleEvent).where(RuleEvent.rule_version_id.in_(list(events)))
                                 .order_by(RuleEvent.id)):
        events[event.rule_version_id].append(event)
    return [(row, events[row.id]) for row in versions]


def rules_by_fund(session: Session) -> dict[str, list[str]]:
    """For each fund, the published versions (``RULE@version``) whose subsidy draws on it."""
    found: dict[str, list[str]] = {}
    for row in session.scalars(select(RuleVersion).where(RuleVersion.status == "published")
                               .order_by(RuleVersion.rule_id, RuleVersion.version)):
        fund = row.definition.get("budget_fund")
        if fund:
            found.setdefault(fund, []).append(f"{row.rule_id}@{row.version}")
    return found


def diff_versions(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Field-by-field differences between two definitions (``RuleVersion.definition``), for a side-by-side view."""
    flat_before, flat_after = _flatten(before), _flatten(after)
    return [Change(path, flat_before.get(path), flat_after.get(path))
            for path in sorted(flat_before.keys() | flat_after.keys())
            if flat_before.get(path) != flat_after.get(path)]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((f"[{i}]", v) for i, v in enumerate(value))
    else:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, inner in items:
        path = f"{prefix}{key}" if key.startswith("[") or not prefix else f"{prefix}.{key}"
        flat.update(_flatten(inner, path))
    return flat
