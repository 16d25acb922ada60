"""Server-side SVG charts as geometry: bars with their labels and values, drawn by ``_chart.html``.

No script and no outside library: the CSP is ``default-src 'self'``. The template gives every chart a
``<title>`` and ``aria-label`` and puts the same numbers in a table beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Drawing units; the SVG scales to its container, 360 units fit a phone without shrinking the text.
WIDTH = 360
ROW = 44
COLUMN_AREA = 150


@dataclass(frozen=True)
class Bar:
    """One bar: what it stands for, its value shown as text, and where it is drawn."""

    label: str
    text: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    """A drawn chart: its size, bars and axis labels (x, y, text)."""

    kind: str
    width: int
    height: int
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, float, str], ...] = ()


def _scale(values: list[int]) -> float:
    top = max(values, default=0)
    return 1.0 / top if top > 0 else 0.0


def bar_chart(items: list[tuple[str, int, str]]) -> Chart:
    """Horizontal bars, one row each: the label and value above a bar as long as its share of the largest."""
    scale = _scale([value for _, value, _ in items])
    bars = tuple(Bar(label, text, 0, i * ROW + 20, max(value * scale * WIDTH, 1 if value else 0), 16)
                 for i, (label, value, text) in enumerate(items))
    return Chart("bar", WIDTH, max(len(items) * ROW, ROW), bars)


def column_chart(items: list[tuple[str, int, str]]) -> Chart:
    """Vertical columns along time (one per day), labelled at most about every fifth column."""
    count = max(len(items), 1)
    step, scale = WIDTH / count, _scale([value for _, value, _ in items])
    bars, ticks = [], []
    every = max(1, round(count / 6))
    for i, (label, value, text) in enumerate(items):
        height = value * scale * COLUMN_AREA
        bars.append(Bar(label, text, i * step + step * 0.1, COLUMN_AREA - height + 4, step * 0.8, height))
        if i % every == 0:
            ticks.append((i * step + step / 2, COLUMN_AREA + 22, label))
    return Chart("column", WIDTH, COLUMN_AREA + 30, tuple(bars), tuple(ticks))
