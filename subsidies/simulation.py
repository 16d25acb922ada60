"""Dry runs: price past quotes again under a candidate rule set and report who and how much would change.

The report counts changed quotes and distinct citizens, the VND delta in total and per rule, and keeps a
few examples. Budgets are left out on purpose: a dry run shows what the rules would do, and the fund
burn is the sum of the support deltas it reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subsidies.compiler import CompiledRuleSet
from subsidies.errors import SubsidyError
from subsidies.evaluator import APPLIED, evaluate
from subsidies.facts import QuoteRequest
from subsidies.quotes import Quote

MAX_EXAMPLES = 5


@dataclass(frozen=True)
class PastCase:
    """One past priced request: what was charged and each rule's signed amount then."""

    ref: str
    citizen: str
    request: QuoteRequest
    amount_due: int
    rule_amounts: dict[str, int]


@dataclass
class RuleImpact:
    """How one rule's contribution changes: in how many cases and by how much (VND, + means citizens pay more)."""

    rule_id: str
    cases_changed: int = 0
    delta: int = 0


@dataclass
class SimulationReport:
    """The outcome of a dry run."""

    candidate_hash: str
    cases: int = 0
    changed: int = 0
    citizens_affected: int = 0
    total_before: int = 0
    total_after: int = 0
    errors: int = 0
    per_rule: dict[str, RuleImpact] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def delta(self) -> int:
        """Change in what citizens pay in total (negative: they pay less, the city pays more)."""
        return self.total_after - self.total_before

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report, stored on the rule version it was made for."""
        data = asdict(self)
        data["delta"] = self.delta
        data["per_rule"] = [asdict(impact) for impact in sorted(self.per_rule.values(), key=lambda i: i.rule_id)]
        return data


def simulate_cases(candidate: CompiledRuleSet, cases: Iterable[PastCase],
                   progress: Callable[[int], None] | None = None, every: int = 10_000) -> SimulationReport:
    """Run ``cases`` through ``candidate``; ``progress(n)`` is called every ``every`` cases."""
    report = SimulationReport(candidate.hash)
    citizens: set[str] = set()
    for case in cases:
        report.cases += 1
        report.total_before += case.amount_due
        try:
            decision = evaluate(candidate, case.request)
        except SubsidyError:
            report.errors += 1  # e.g. no base fee any more: counted, the case keeps its old price
            report.total_after += case.amount_due
            continue
        report.total_after += decision.amount_due
        after = {step[0].rule_id: (step[3] if step[0].layer_index == 0 else -step[3])
                 for step in decision.steps if step[1] == APPLIED}
        if decision.amount_due != case.amount_due or after != case.rule_amounts:
            report.changed += 1
            citizens.add(case.citizen)
            _attribute(report, case.rule_amounts, after)
            if len(report.examples) < MAX_EXAMPLES:
                report.examples.append({"ref": case.ref, "before": case.amount_due, "after": decision.amount_due,
                                        "applied_after": list(decision.applied)})
        if progress is not None and report.cases % every == 0:
            progress(report.cases)
    report.citizens_affected = len(citizens)
    return report


def _attribute(report: SimulationReport, before: dict[str, int], after: dict[str, int]) -> None:
    for rule_id in before.keys() | after.keys():
        change = after.get(rule_id, 0) - before.get(rule_id, 0)
        if change:
            impact = report.per_rule.setdefault(rule_id, RuleImpact(rule_id))
            impact.cases_changed += 1
            impact.delta += change


def past_quotes(session: Session, start: date, end: date, batch: int = 5_000) -> Iterator[PastCase]:
    """Stored quotes decided between ``start`` and ``end`` (inclusive), streamed in batches."""
    query = (select(Quote).where(Quote.decision_day >= start, Quote.decision_day <= end)
             .order_by(Quote.created_at).execution_options(yield_per=batch))
    for quote in session.scalars(query):
        rule_amounts = {entry["rule_id"]: entry["amount"] for layer in quote.explanation
                        for entry in layer["entries"] if entry["applied"]}
        yield PastCase(ref=quote.id, citizen=quote.citizen_ref or quote.id,
                       request=QuoteRequest.from_dict(quote.request),
                       amount_due=quote.amount_due, rule_amounts=rule_amounts)


def count_past_quotes(session: Session, start: date, end: date) -> int:
    """How many stored quotes were decided between ``start`` and ``end`` (inclusive): the size of a dry run."""
    return session.scalar(select(func.count()).select_from(Quote)
                          .where(Quote.decision_day >= start, Quote.decision_day <= end)) or 0


def simulate(session: Session, candidate: CompiledRuleSet, start: date, end: date,
             progress: Callable[[int], None] | None = None) -> SimulationReport:
    """Dry-run ``candidate`` over the quotes of a period."""
    return simulate_cases(candidate, past_quotes(session, start, end), progress)
