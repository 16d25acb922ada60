"""Administrative units as reference data, keyed by code *and* code-list version.

Since 1 July 2025 Vietnam has 34 provincial units (NQ 202/2025/QH15) coded by QĐ 19/2025/QĐ-TTg. Rules
and profiles key on codes plus the code list they come from, never on names, so a later reorganisation
adds a list instead of rewriting history. The bundled list is seed data: an operator can correct it.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import CheckConstraint, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base

CURRENT_CODE_LIST = "QD19/2025"
_DATA = Path(__file__).parent / "data" / "provinces_qd19_2025.csv"


class Province(Base):
    """A provincial-level unit (province or centrally-run city) in one code list."""

    __tablename__ = "provinces"
    __table_args__ = (
        CheckConstraint("length(code) = 2", name="code_two_digits"),
        CheckConstraint("kind IN ('city', 'province')", name="kind_known"),
    )

    #: The code list this row belongs to, e.g. ``QD19/2025``.
    code_list: Mapped[str] = mapped_column(String(20), primary_key=True)
    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))


def bundled_provinces() -> list[dict[str, str]]:
    """Return the provinces of the bundled QĐ 19/2025 list."""
    with _DATA.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def seed_provinces(session: Session) -> int:
    """Insert the bundled provinces that are missing; return how many were added (0 on a re-run)."""
    existing = set(session.scalars(select(Province.code).where(Province.code_list == CURRENT_CODE_LIST)))
    added = [Province(code_list=CURRENT_CODE_LIST, **row) for row in bundled_provinces() if row["code"] not in existing]
    session.add_all(added)
    session.flush()
    return len(added)


def province_name(session: Session, code: str, code_list: str = CURRENT_CODE_LIST) -> str | None:
    """Return the name of province ``code`` in ``code_list``, or None if there is no such unit."""
    row = session.get(Province, (code_list, code))
    return row.name if row else None
