"""The policy workflow: draft -> in review -> approved -> published -> retired, maker-checker throughout.

These are the services the back-office rule editor calls; the edge checks the staff member's role, these
check everything else. The author never approves (here and by a CHECK constraint); approval and
publication need green attached tests, a simulation report, a legal basis (the schema demands one) and
a clean static check; a retroactive start date needs a second, different approver. A draft started from
a published version of the same rule is its successor: publishing it ends that version the day before
it starts (``subsidies.succession``). Every change is appended to ``rule_events``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from core.geography import Province
from subsidies.budgets import Fund
from subsidies.catalogue import get_service
from subsidies.checks import Problem, check_rule_set, window_overlaps
from subsidies.compiler import CompiledRuleSet
from subsidies.definitions import RuleDefinition
from subsidies.errors import AuthorCannotApprove, RetireRefused, RuleImmutable, RuleNotReady, WorkflowRefused
from subsidies.rule_store import (
    RuleVersion,
    add_version,
    effective_definitions,
    log_event,
    published_definitions,
    published_rows,
    replacements,
    snapshot_rule_set,
)
from subsidies.rule_tests import run_attached_tests
from subsidies.schema import parse_rule
from subsidies.simulation import SimulationReport, simulate
from subsidies.succession import new_last_day, succession_problems

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


@dataclass(frozen=True)
class Succession:
    """What publishing a successor does to the published version it replaces."""

    predecessor_id: int
    predecessor: str
    #: The predecessor's window in force now (``end`` None: open-ended).
    start: date
    end: date | None
    #: The successor's first day (None: not chosen yet).
    successor_start: date | None
    #: The predecessor's last day once the successor is published; None when it is left as it is.
    new_end: date | None

    @property
    def starts_too_early(self) -> bool:
        """True when the successor does not start after the predecessor (approval is refused)."""
        return self.successor_start is not None and self.successor_start <= self.start


def create_draft(session: Session, data: Mapping[str, Any], author_id: str, clock: Clock = SYSTEM_CLOCK, *,
                 replaces_id: int | None = None) -> RuleVersion:
    """Validate ``data`` and store it as the next version of its rule (version numbers are assigned here).

    ``replaces_id`` is the version the draft was started from: a published version of the same rule makes
    the draft its successor; a copy into another rule, or of a version no longer published, is a plain draft.
    """
    rule_id = str(data.get("rule_id", ""))
    latest = session.scalar(select(func.max(RuleVersion.version)).where(RuleVersion.rule_id == rule_id)) or 0
    definition = parse_rule({**data, "version": latest + 1})
    get_service(session, definition.service)
    return add_version(session, definition, author_id=author_id, replaces=replaceable(session, replaces_id, rule_id),
                       clock=clock)


def replaceable(session: Session, row_id: int | None, rule_id: str) -> RuleVersion | None:
    """Version ``row_id`` when a new draft of ``rule_id`` started from it would replace it, else None."""
    source = session.get(RuleVersion, row_id) if row_id is not None else None
    if source is None or source.rule_id != rule_id or source.status != "published":
        return None
    return source


def succession(session: Session, predecessor: RuleVersion | None, start: date | None) -> Succession | None:
    """What a successor starting on ``start`` (None: not chosen yet) would do to ``predecessor`` if published."""
    if predecessor is None or predecessor.status != "published":
        return None
    current = dict(published_definitions(session))[predecessor.id]
    return Succession(predecessor.id, predecessor.key, current.effective_from, current.effective_to, start,
                      new_last_day(current, start) if start is not None else None)


def succession_for(session: Session, row: RuleVersion) -> Succession | None:
    """What publishing ``row`` will do to the version it replaces (None when it replaces none in force)."""
    if row.replaces_id is None or row.status not in ("draft", "in_review", "approved"):
        return None
    return succession(session, session.get(RuleVersion, row.replaces_id), row.effective_from)


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
    candidate = CompiledRuleSet(candidate_definitions(session, row))
    report = simulate(session, candidate, start, end, progress)
    attach_simulation(session, row_id, {**report.to_dict(), "period": [start.isoformat(), end.isoformat()]},
                      actor_id, clock)
    return report


def publish(session: Session, row_id: int, actor_id: str, clock: Clock = SYSTEM_CLOCK) -> RuleVersion:
    """Publish an approved version: checks again, ends the version it replaces, snapshots the new rule set."""
    row = _row(session, row_id, lock=True)
    # Two successors of one version published at once: the second waits here, then its checks see the
    # first one published and refuse it (predecessor_replaced) instead of ending the version twice.
    predecessor = _row(session, row.replaces_id, lock=True) if row.replaces_id is not None else None
    if row.status == "approved":
        _refuse_if_not_ready(session, row)
    transition(session, row, "publish", actor_id, clock=clock)
    row.published_at = clock.now()
    session.flush()
    last = _changed_last_day(predecessor, row)
    if last is not None:
        log_event(session, predecessor, "ended", "published", "published", actor_id,
                  note=f"last day in force {last}: replaced by {row.key} from {row.effective_from}", clock=clock)
    snapshot_rule_set(session, actor_id, clock)
    return row


def retire(session: Session, row_id: int, actor_id: str, note: str, clock: Clock = SYSTEM_CLOCK) -> RuleVersion:
    """Withdraw a published version; quotes pinned to older rule sets keep their price.

    Retiring a successor puts the version it ended back in force as it was (recorded on that version too),
    so it is refused when that version would then overlap another published version of the rule.
    """
    row = _row(session, row_id)
    predecessor = session.get(RuleVersion, row.replaces_id) if row.replaces_id is not None else None
    if row.status == "published" and _changed_last_day(predecessor, row) is not None:
        _refuse_if_restoring_overlaps(session, row, predecessor)
    transition(session, row, "retire", actor_id, note=note, clock=clock)
    if _changed_last_day(predecessor, row) is not None:
        end = predecessor.effective_to.isoformat() if predecessor.effective_to else "open-ended"
        log_event(session, predecessor, "end_withdrawn", "published", "published", actor_id,
                  note=f"in force again until {end}: its successor {row.key} was retired", clock=clock)
    snapshot_rule_set(session, actor_id, clock)
    return row


def publication_problems(session: Session, row: RuleVersion) -> list[Problem]:
    """Everything that stops ``row`` from being approved or published (empty when it is ready)."""
    problems = [] if row.simulation_report else [Problem("no_simulation", "no simulation report is attached",
                                                         (row.key,), params={"rule": row.key})]
    rows = _candidate_rows(session, row)
    candidate = effective_definitions(rows)
    problems += succession_problems(candidate, replacements(rows))
    known_codes: dict[str, set[str]] = {}
    for code_list, code in session.execute(select(Province.code_list, Province.code)):
        known_codes.setdefault(code_list, set()).add(code)
    known_funds = set(session.scalars(select(Fund.code)))
    problems += check_rule_set(candidate, known_codes=known_codes, known_funds=known_funds)
    rule_set = CompiledRuleSet(candidate)
    same_service = [d for d in candidate if d.service == row.service_code]
    problems += [Problem("test_failed", f"test {r.name} fails: {'; '.join(r.problems)}", (row.key,),
                         params={"test": r.name, "problems": "; ".join(r.problems)})
                 for r in run_attached_tests(rule_set, same_service) if not r.passed]
    return problems


def candidate_definitions(session: Session, row: RuleVersion) -> list[RuleDefinition]:
    """The published rule set with ``row`` added, ending the version it replaces as publishing it would."""
    return effective_definitions(_candidate_rows(session, row))


def _candidate_rows(session: Session, row: RuleVersion) -> list[RuleVersion]:
    # Listed last: of two successors of one version, succession_problems refuses the later one.
    return [*(published for published in published_rows(session) if published.id != row.id), row]


def _changed_last_day(predecessor: RuleVersion | None, successor: RuleVersion) -> date | None:
    """The day ``successor`` makes the published ``predecessor`` end on (None: it leaves it as it is)."""
    if predecessor is None or predecessor.status != "published":
        return None
    return new_last_day(predecessor.parsed(), successor.effective_from)


def _refuse_if_restoring_overlaps(session: Session, row: RuleVersion, predecessor: RuleVersion) -> None:
    remaining = [r for r in published_rows(session) if r.rule_id == row.rule_id and r.id != row.id]
    others = [next(key for key in p.rules if key != predecessor.key)
              for p in window_overlaps(effective_definitions(remaining)) if predecessor.key in p.rules]
    if others:
        problems = [Problem("retire_restores_overlap", f"retiring {row.key} would put {predecessor.key} back in "
                                                       f"force over {other}", (row.key, predecessor.key, other),
                            params={"rule": row.key, "predecessor": predecessor.key, "other": other})
                    for other in others]
        raise RetireRefused(f"{row.key} cannot be retired: {problems[0].message}",
                            details={"rule": row.key, "problems": [problem.to_dict() for problem in problems]})


def _refuse_if_not_ready(session: Session, row: RuleVersion) -> None:
    problems = publication_problems(session, row)
    if problems:
        raise RuleNotReady(f"{row.key} is not ready: {problems[0].message}",
                           details={"rule": row.key, "problems": [problem.to_dict() for problem in problems]})


def _row(session: Session, row_id: int, *, lock: bool = False) -> RuleVersion:
    # A locked read also refreshes the row: after waiting, it must show what the other transaction committed.
    row = session.get(RuleVersion, row_id, with_for_update=lock or None, populate_existing=lock)
    if row is None:
        raise WorkflowRefused(f"no rule version {row_id}", code="rule_version_not_found")
    return row
