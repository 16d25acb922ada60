"""The policy workflow: draft -> in review -> approved -> published -> retired, maker-checker throughout.

These are the services the back-office rule editor calls; the edge checks the staff member's role, these
check everything else. The author never approves (here and by a CHECK constraint); approval and
publication need green attached tests, a simulation report, a legal basis (the schema demands one) and
a clean static check; a retroactive start date needs a second, different approver. Every change is
appended to ``rule_events``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from core.geography import Province
from subsidies.budgets import Fund
from subsidies.catalogue import get_service
from subsidies.checks import check_rule_set
from subsidies.compiler import CompiledRuleSet
from subsidies.definitions import RuleDefinition
from subsidies.errors import AuthorCannotApprove, RuleImmutable, WorkflowRefused
from subsidies.rule_store import RuleVersion, add_version, log_event, published_definitions, snapshot_rule_set
from subsidies.rule_tests import run_attached_tests
from subsidies.schema import parse_rule
from subsidies.simulation import SimulationReport, simulate

#: (from status, action) -> to status. ``transition`` is the only writer of ``RuleVersion.status``.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "submit"): "in_review",
    ("in_review", "send_back"): "draft",
    ("in_review", "approve"): "approved",
    ("approved", "publish"): "published",
    ("published", "retire"): "retired",
}


def transition(session: Session, row: RuleVersion, action: str, actor_id: str, *, note: str | None = None,
               clock: Clock = SYSTEM_CLOCK) -> RuleVersion:
    """Move ``row`` along the table, or refuse an edge that is not in it; log the change."""
    target = TRANSITIONS.get((row.status, action))
    if target is None:
        raise WorkflowRefused(f"{row.rule_id}@{row.version} is {row.status}: cannot {action}",
                              details={"status": row.status, "action": action})
    before, row.status = row.status, target
    session.flush()
    log_event(session, row, action, before, target, actor_id, note=note, clock=clock)
    return row


def create_draft(session: Session, data: Mapping[str, Any], author_id: str,
                 clock: Clock = SYSTEM_CLOCK) -> RuleVersion:
    """Validate ``data`` and store it as the next version of its rule (version numbers are assigned here)."""
    rule_id = str(data.get("rule_id", ""))
    latest = session.scalar(select(func.max(RuleVersion.version)).where(RuleVersion.rule_id == rule_id)) or 0
    definition = parse_rule({**data, "version": latest + 1})
    get_service(session, definition.service)
    return add_version(session, definition, author_id=author_id, clock=clock)


def update_draft(session: Session, row_id: int, data: Mapping[str, Any], actor_id: str,
                 clock: Clock = SYSTEM_CLOCK) -> RuleVersion:
    """Replace a draft's definition (rule id and version stay); anything past draft is immutable."""
    row = _row(session, row_id)
    if row.status != "draft":
        raise RuleImmutable(f"{row.rule_id}@{row.version} is {row.status}; only drafts can be edited")
    definition = parse_rule({**data, "rule_id": row.rule_id, "version": row.version})
    get_service(session, definition.service)
    row.definition, row.service_code, row.layer = definition.to_dict(), definition.service, definition.layer
    row.effective_from, row.effective_to = definition.effective_from, definition.effective_to
    row.simulation_report = None  # the old report described other content
    session.flush()
    log_event(session, row, "edited", "draft", "draft", actor_id, clock=clock)
    return row


def submit(session: Session, row_id: int, actor_id: str, clock: Clock = SYSTEM_CLOCK) -> RuleVersion:
    """Send a draft for review."""
    return transition(session, _row(session, row_id), "submit", actor_id, clock=clock)


def send_back(session: Session, row_id: int, actor_id: str, note: str, clock: Clock = SYSTEM_CLOCK) -> RuleVersion:
    """Return a version under review to its author, saying why."""
    return transition(session, _row(session, row_id), "send_back", actor_id, note=note, clock=clock)


def attach_simulation(session: Session, row_id: int, report: Mapping[str, Any], actor_id: str,
                      clock: Clock = SYSTEM_CLOCK) -> RuleVersion:
    """Attach a dry-run report (``SimulationReport.to_dict``) to a draft or a version under review."""
    row = _row(session, row_id)
    if row.status not in ("draft", "in_review"):
        raise RuleImmutable(f"{row.rule_id}@{row.version} is {row.status}; its report is final")
    row.simulation_report = dict(report)
    session.flush()
    log_event(session, row, "simulated", row.status, row.status, actor_id, clock=clock)
    return row


def approve(session: Session, row_id: int, approver_id: str, clock: Clock = SYSTEM_CLOCK) -> RuleVersion:
    """Approve a version under review; a retroactive one stays in review until a second approver agrees."""
    row = _row(session, row_id)
    if approver_id == row.author_id:
        raise AuthorCannotApprove(f"{approver_id} wrote {row.rule_id}@{row.version}; another person must approve",
                                  details={"rule": f"{row.rule_id}@{row.version}"})
    if row.status != "in_review":
        raise WorkflowRefused(f"{row.rule_id}@{row.version} is {row.status}: cannot approve")
    _refuse_if_not_ready(session, row)
    retroactive = row.effective_from < clock.today_in_vietnam()
    if row.approver_id is None:
        row.approver_id = approver_id
        if retroactive:
            session.flush()
            log_event(session, row, "approve_first", "in_review", "in_review", approver_id,
                      note="retroactive start date: a second approver is needed", clock=clock)
            return row
    elif approver_id == row.approver_id:
        raise AuthorCannotApprove(f"{approver_id} already approved {row.rule_id}@{row.version}; a retroactive "
                                  "change needs a second, different approver")
    else:
        row.second_approver_id = approver_id
    return transition(session, row, "approve", approver_id, clock=clock)


def simulate_version(session: Session, row_id: int, start: date, end: date, actor_id: str,
                     progress: Callable[[int], None] | None = None, clock: Clock = SYSTEM_CLOCK) -> SimulationReport:
    """Dry-run the published rule set plus this version over the quotes of a period, and attach the report."""
    row = _row(session, row_id)
    candidate = CompiledRuleSet(candidate_definitions(session, row.parsed()))
    report = simulate(session, candidate, start, end, progress)
    attach_simulation(session, row_id, {**report.to_dict(), "period": [start.isoformat(), end.isoformat()]},
                      actor_id, clock)
    return report


def publish(session: Session, row_id: int, actor_id: str, clock: Clock = SYSTEM_CLOCK) -> RuleVersion:
    """Publish an approved version: checks again, then snapshots the new current rule set."""
    row = _row(session, row_id)
    if row.status == "approved":
        _refuse_if_not_ready(session, row)
    transition(session, row, "publish", actor_id, clock=clock)
    row.published_at = clock.now()
    session.flush()
    snapshot_rule_set(session, actor_id, clock)
    return row


def retire(session: Session, row_id: int, actor_id: str, note: str, clock: Clock = SYSTEM_CLOCK) -> RuleVersion:
    """Withdraw a published version; quotes pinned to older rule sets keep their price."""
    row = transition(session, _row(session, row_id), "retire", actor_id, note=note, clock=clock)
    snapshot_rule_set(session, actor_id, clock)
    return row


def publication_problems(session: Session, row: RuleVersion) -> list[str]:
    """Everything that stops ``row`` from being approved or published (empty when it is ready)."""
    problems = [] if row.simulation_report else ["no simulation report is attached"]
    definition = row.parsed()
    candidate = candidate_definitions(session, definition)
    known_codes: dict[str, set[str]] = {}
    for code_list, code in session.execute(select(Province.code_list, Province.code)):
        known_codes.setdefault(code_list, set()).add(code)
    known_funds = set(session.scalars(select(Fund.code)))
    problems += [p.message for p in check_rule_set(candidate, known_codes=known_codes, known_funds=known_funds)]
    rule_set = CompiledRuleSet(candidate)
    same_service = [d for d in candidate if d.service == definition.service]
    problems += [f"test {r.name} fails: {'; '.join(r.problems)}"
                 for r in run_attached_tests(rule_set, same_service) if not r.passed]
    return problems


def candidate_definitions(session: Session, definition: RuleDefinition) -> list[RuleDefinition]:
    """The published rule set with ``definition`` added (replacing the same version if present)."""
    published = [d for _id, d in published_definitions(session) if d.key != definition.key]
    return [*published, definition]


def _refuse_if_not_ready(session: Session, row: RuleVersion) -> None:
    problems = publication_problems(session, row)
    if problems:
        raise WorkflowRefused(f"{row.rule_id}@{row.version} is not ready: {problems[0]}",
                              details={"problems": problems})


def _row(session: Session, row_id: int) -> RuleVersion:
    row = session.get(RuleVersion, row_id)
    if row is None:
        raise WorkflowRefused(f"no rule version {row_id}", code="rule_version_not_found")
    return row
