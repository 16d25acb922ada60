"""The finance blueprint and what its views share: who is acting, and today's date in Vietnam."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint

from core.money import Money
from web.auth import current_principal

bp = Blueprint("finance", __name__, url_prefix="/admin/finance",
               template_folder=str(Path(__file__).resolve().parent.parent / "templates"))


def actor() -> str:
    """The acting staff member as recorded in runs, breaks and events: ``staff:<id>``."""
    return f"staff:{current_principal().staff.id}"


def is_approver() -> bool:
    """Whether the acting staff member may approve and sign off."""
    from identity.roles import FINANCE_APPROVER

    return FINANCE_APPROVER in current_principal().roles


@bp.context_processor
def _helpers() -> dict:
    """``vnd(amount)`` wraps integer dong as Money, for the ``money`` filter."""
    return {"vnd": lambda amount: Money(amount, "VND") if amount is not None else None}
