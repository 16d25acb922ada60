"""Which events make which sessions: a pure function of one vehicle's events at one lot.

Events are ordered by the time the gate gives them (then entries before exits, then arrival), whatever
order they arrived in, so a late or out-of-order event gives the same sessions as the ordered stream:

* an entry, then an exit: a closed session;
* an entry, then another entry: the first is ``superseded`` (flag ``entry_without_exit``): the gate missed
  the exit, or the vehicle came back through another lane; nothing is charged for it until staff look;
* an exit with no entry before it: a closed session flagged ``exit_without_entry``, priced by the lot's
  rule for it;
* a last entry with no exit yet: the vehicle is inside (``open``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

ENTRY, EXIT = "entry", "exit"
OPEN, CLOSED, SUPERSEDED = "open", "closed", "superseded"
EXIT_WITHOUT_ENTRY, ENTRY_WITHOUT_EXIT = "exit_without_entry", "entry_without_exit"


@dataclass(frozen=True)
class Event:
    """What pairing needs of a gate event."""

    id: int
    type: str
    at: datetime


@dataclass(frozen=True)
class Pair:
    """One session's events, status and flags."""

    entry: Event | None
    exit: Event | None
    status: str
    flags: tuple[str, ...] = ()


def pair(events: Iterable[Event]) -> list[Pair]:
    """The sessions ``events`` make (see the module docstring), in time order."""
    pairs: list[Pair] = []
    waiting: Event | None = None
    for event in sorted(events, key=lambda e: (e.at, e.type != ENTRY, e.id)):
        if event.type == ENTRY:
            if waiting is not None:
                pairs.append(Pair(waiting, None, SUPERSEDED, (ENTRY_WITHOUT_EXIT,)))
            waiting = event
        elif waiting is not None:
            pairs.append(Pair(waiting, event, CLOSED))
            waiting = None
        else:
            pairs.append(Pair(None, event, CLOSED, (EXIT_WITHOUT_ENTRY,)))
    if waiting is not None:
        pairs.append(Pair(waiting, None, OPEN))
    return pairs
