"""Demo and reference data for the embedded default; every seeder is idempotent (a re-run adds nothing)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from core.geography import seed_provinces

#: (what it seeds, seeder returning how many rows it added). Later capabilities append theirs.
SEEDERS: list[tuple[str, Callable[[Session], int]]] = [
    ("provinces (QĐ 19/2025)", seed_provinces),
]


def seed_all(session: Session) -> dict[str, int]:
    """Run every seeder in order; return rows added by each."""
    return {label: seeder(session) for label, seeder in SEEDERS}
