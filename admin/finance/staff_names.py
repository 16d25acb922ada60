"""Show ``staff:<id>`` actors by their display names."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.models import StaffAccount


def staff_names(session: Session, actors: Iterable[str | None]) -> dict[str, str]:
    """Map each ``staff:<id>`` in ``actors`` to that account's display name (others are left out)."""
    ids = {int(a.split(":", 1)[1]) for a in actors if a and a.startswith("staff:") and a[6:].isdigit()}
    if not ids:
        return {}
    rows = session.execute(select(StaffAccount.id, StaffAccount.display_name).where(StaffAccount.id.in_(ids)))
    return {f"staff:{staff_id}": name for staff_id, name in rows}
