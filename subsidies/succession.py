"""Successor versions: a version drafted from a published one replaces it, and ends it once published.

A successor records the version it replaces (``RuleVersion.replaces_id``). Inside a rule set the replaced
version's last day becomes the day before its successor starts, unless it already ends by then. The end
is derived from the versions in the set, never written into the predecessor's stored definition, so a
published version stays immutable, an older rule set pinned by quotes (without the successor) still hashes
and prices as it did, and retiring the successor brings the predecessor back as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, timedelta

from subsidies.checks import Problem
from subsidies.definitions import RuleDefinition


def new_last_day(predecessor: RuleDefinition, successor_start: date) -> date | None:
    """The predecessor's last day once a successor starting on ``successor_start`` is in force.

    None when nothing changes: it already ends before that day, or the successor does not start after it
    (refused by ``succession_problems``; cutting there would leave the predecessor no day at all).
    """
    if successor_start <= predecessor.effective_from:
        return None
    last = successor_start - timedelta(days=1)
    if predecessor.effective_to is not None and predecessor.effective_to <= last:
        return None
    return last


def end_replaced(definitions: Iterable[RuleDefinition], replaces: Mapping[str, str]) -> list[RuleDefinition]:
    """``definitions`` (in order) with each replaced version ending the day before its successor starts.

    ``replaces`` maps a successor's key (``RULE@3``) to its predecessor's key (``RULE@2``); pairs whose
    versions are not both in ``definitions`` change nothing.
    """
    rules = list(definitions)
    by_key = {rule.key: rule for rule in rules}
    ends: dict[str, date] = {}
    for successor_key, predecessor_key in replaces.items():
        successor, predecessor = by_key.get(successor_key), by_key.get(predecessor_key)
        if successor is None or predecessor is None:
            continue
        last = new_last_day(predecessor, successor.effective_from)
        if last is not None:
            ends[predecessor_key] = min(last, ends.get(predecessor_key, last))
    return [replace(rule, effective_to=ends[rule.key]) if rule.key in ends else rule for rule in rules]


def succession_problems(definitions: Iterable[RuleDefinition], replaces: Mapping[str, str]) -> list[Problem]:
    """Successors that cannot end their predecessor: starting too early, or a second successor of one version.

    A version is ended once: of two successors of it, the one later in ``definitions`` is refused.
    """
    by_key = {rule.key: rule for rule in definitions}
    problems = []
    successors: dict[str, list[RuleDefinition]] = {}
    for successor_key, predecessor_key in sorted(replaces.items()):
        successor, predecessor = by_key.get(successor_key), by_key.get(predecessor_key)
        if successor is None or predecessor is None:
            continue
        successors.setdefault(predecessor_key, []).append(successor)
        if successor.effective_from <= predecessor.effective_from:
            problems.append(Problem(
                "successor_starts_too_early",
                f"{successor.key} replaces {predecessor.key} but starts on {successor.effective_from}, not after "
                f"{predecessor.key} starts ({predecessor.effective_from}); choose a later start date",
                (successor.key, predecessor.key),
                params={"rule": successor.key, "predecessor": predecessor.key,
                        "start": successor.effective_from.isoformat(),
                        "predecessor_start": predecessor.effective_from.isoformat()}))
    order = {key: index for index, key in enumerate(by_key)}
    for predecessor_key, found in successors.items():
        # The one listed first keeps the predecessor: candidate sets list the version under review last.
        first, *later = sorted(found, key=lambda rule: order[rule.key])
        problems += [Problem("predecessor_replaced", f"{predecessor_key} was already replaced by {first.key}; "
                                                     f"start {rule.key} from {first.key} instead",
                             (rule.key, predecessor_key, first.key),
                             params={"rule": rule.key, "predecessor": predecessor_key, "successor": first.key})
                     for rule in later]
    return problems
