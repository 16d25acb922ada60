"""A report as plain data: columns, rows and totals computed once, so every rendering shows the same sums."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

KINDS = ("text", "money", "count", "date")

#: The signatures a public-sector report carries at its foot (người lập, kế toán trưởng, thủ trưởng đơn vị).
DEFAULT_SIGNOFF = (("Người lập biểu", "Prepared by"), ("Kế toán trưởng", "Chief accountant"),
                   ("Thủ trưởng đơn vị", "Head of unit"))


@dataclass(frozen=True)
class Column:
    """One column: its key in each row, its heading in Vietnamese and English, and what it holds."""

    key: str
    title_vi: str
    title_en: str
    kind: str = "text"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column kind {self.kind!r} is not one of {KINDS}")

    def title(self, locale: str) -> str:
        """Return the heading in ``locale`` (vi or en)."""
        return self.title_en if locale == "en" else self.title_vi


@dataclass(frozen=True)
class ReportTable:
    """A finished report: rows of plain values (money as integer dong) and the totals of summed columns."""

    title: str
    period: str
    columns: tuple[Column, ...]
    rows: tuple[dict, ...]
    generated_at: datetime
    currency: str = "VND"
    signoff: tuple[tuple[str, str], ...] = DEFAULT_SIGNOFF
    totals: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        summed = [c.key for c in self.columns if c.kind in ("money", "count")]
        for row in self.rows:
            for key in summed:
                if isinstance(row.get(key), bool) or not isinstance(row.get(key), int):
                    raise TypeError(f"{key} must be an integer in every row, got {row.get(key)!r}")
        object.__setattr__(self, "totals", {key: sum(row[key] for row in self.rows) for key in summed})
