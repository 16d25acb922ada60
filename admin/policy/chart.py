"""A server-side SVG bar chart of a simulation's money change per rule (no script: the CSP allows none inline).

Bars grow right for rules that make citizens pay more and left for rules that make them pay less, from a
shared zero line; the page shows the same numbers in a table for screen readers and for printing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WIDTH, BAR_HEIGHT, GAP, LABEL_WIDTH = 640, 22, 10, 220


@dataclass(frozen=True)
class Bar:
    """One rule's bar: its label, value and rectangle in SVG user units."""

    label: str
    value: int
    x: float
    y: float
    width: float


@dataclass(frozen=True)
class Chart:
    """The chart's size, zero line and bars."""

    width: int
    height: int
    zero_x: float
    bars: tuple[Bar, ...]


def impact_chart(report: dict[str, Any]) -> Chart | None:
    """Bars of ``report["per_rule"]`` deltas (VND); None when nothing changed."""
    rows = [(item["rule_id"], int(item["delta"])) for item in report.get("per_rule") or [] if item["delta"]]
    if not rows:
        return None
    plot = WIDTH - LABEL_WIDTH - 20
    low, high = min(0, *(v for _r, v in rows)), max(0, *(v for _r, v in rows))
    scale = plot / ((high - low) or 1)
    zero_x = LABEL_WIDTH + (-low) * scale
    bars = tuple(Bar(label, value, zero_x + min(0, value) * scale, GAP + i * (BAR_HEIGHT + GAP),
                     max(abs(value) * scale, 1.0)) for i, (label, value) in enumerate(rows))
    return Chart(WIDTH, GAP + len(rows) * (BAR_HEIGHT + GAP), zero_x, bars)
