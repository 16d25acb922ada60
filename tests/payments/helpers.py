"""Small helpers shared by the payments tests."""

from __future__ import annotations

from sqlalchemy import func, select


def count(session, model, *where) -> int:
    """Return how many rows of ``model`` match ``where``."""
    return session.scalar(select(func.count()).select_from(model).where(*where))
