"""What the policy views share: the blueprint, role sets, who is acting, lookups and the refusal page."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from admin.policy.messages import error_text, problem_text
from core.geography import Province
from core.money import Money
from identity.models import StaffAccount
from identity.roles import POLICY_APPROVER, POLICY_EDITOR
from subsidies.budgets import Fund
from subsidies.catalogue import list_services
from subsidies.errors import SubsidyError
from subsidies.rule_store import RuleVersion
from web.auth import current_principal
from web.database import db_session
from web.errors import error_response, status_for, wants_json

bp = Blueprint("policy", __name__, url_prefix="/admin/policy",
               template_folder=str(Path(__file__).resolve().parent.parent / "templates"))

#: Who may do what: editors draft and simulate, approvers decide, both read.
READERS = (POLICY_EDITOR, POLICY_APPROVER)
EDITORS = (POLICY_EDITOR,)
APPROVERS = (POLICY_APPROVER,)
STAFF_PREFIX = "staff:"


def actor_id() -> str:
    """The id this staff member is recorded under in the rules' audit trail (``staff:<account id>``)."""
    return f"{STAFF_PREFIX}{current_principal().staff.id}"


def actor_names(ids: set[str]) -> dict[str, str]:
    """Display names for audit-trail actor ids; seed and unknown ids are shown as they are."""
    numbers = {int(i.removeprefix(STAFF_PREFIX)) for i in ids
               if i and i.startswith(STAFF_PREFIX) and i.removeprefix(STAFF_PREFIX).isdigit()}
    rows = db_session().execute(select(StaffAccount.id, StaffAccount.display_name)
                                .where(StaffAccount.id.in_(numbers))) if numbers else []
    names = {f"{STAFF_PREFIX}{number}": name for number, name in rows}
    return {i: names.get(i, i) for i in ids if i}


def version_or_404(row_id: int) -> RuleVersion:
    """The rule version with this id, or a 404 page."""
    row = db_session().get(RuleVersion, row_id)
    if row is None:
        abort(404)
    return row


def editor_choices() -> dict[str, list]:
    """Services, funds and code lists the editor's selects offer."""
    session = db_session()
    return {"services": [(s.code, f"{s.code} · {s.name_vi}") for s in list_services(session)],
            "funds": list(session.scalars(select(Fund.code).order_by(Fund.code))),
            "code_lists": list(session.scalars(select(Province.code_list).distinct().order_by(Province.code_list)))}


def discard_changes() -> None:
    """Roll back this request's work before answering a refused form (the edge commits normal answers)."""
    db_session().rollback()


@bp.app_template_filter("dong")
def dong(amount: int | None) -> str:
    """An integer VND amount through the ``money`` filter."""
    from web.i18n import money

    return "" if amount is None else money(Money(amount, "VND"))


@bp.errorhandler(SubsidyError)
def refused(error: SubsidyError):
    """A refused workflow step: its stable code, the message and every problem listed, never a stack trace."""
    status = status_for(error)
    if wants_json():
        return error_response(status, error.code, error.message, error.details)
    problems = [problem_text(problem) for problem in (error.details or {}).get("problems") or []]
    return render_template("admin/policy/refused.html", error=error, message=error_text(error),
                           problems=problems), status
