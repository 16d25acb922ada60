"""Writing rules: a new draft (blank or copied from a version), editing a draft, sending it for review.

A draft started from a published version of the same rule replaces it; the editor says what publishing
will do to that version, so nobody learns it only at approval.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from admin.policy.common import EDITORS, actor_id, bp, discard_changes, editor_choices, version_or_404
from admin.policy.rule_form import build_form, rule_data
from core.clock import SYSTEM_CLOCK
from subsidies import workflow
from subsidies.errors import RuleImmutable, RuleInvalid, UnknownService
from subsidies.rule_store import RuleVersion
from web.auth import require_role
from web.database import db_session


@bp.get("/drafts/new")
@require_role(*EDITORS)
def new_draft():
    """The editor, blank or filled from version ``?from=<id>`` (a new version of that rule, replacing it)."""
    source_id = request.args.get("from", type=int)
    source = version_or_404(source_id) if source_id else None
    form = build_form(None, data=source.definition if source else None, **editor_choices())
    form.replaces.data = source.id if source else None
    return _editor(form, None)


@bp.post("/drafts/new")
@require_role(*EDITORS)
def create_draft():
    """Store the form as the next draft version of its rule."""
    form = build_form(request.form, **editor_choices())
    if not form.validate():
        return _editor(form, None, status=422)
    try:
        row = workflow.create_draft(db_session(), rule_data(form), actor_id(), SYSTEM_CLOCK,
                                    replaces_id=form.replaces.data)
    except (RuleInvalid, UnknownService) as error:
        discard_changes()
        return _editor(form, None, error=error, status=422)
    return redirect(url_for("policy.version", row_id=row.id), 303)


@bp.get("/versions/<int:row_id>/edit")
@require_role(*EDITORS)
def edit_draft(row_id: int):
    """The editor on an existing draft."""
    row = version_or_404(row_id)
    if row.status != "draft":
        raise RuleImmutable(f"{row.rule_id}@{row.version} is {row.status}; only drafts can be edited")
    return _editor(build_form(None, data=row.definition, **editor_choices()), row)


@bp.post("/versions/<int:row_id>/edit")
@require_role(*EDITORS)
def update_draft(row_id: int):
    """Replace the draft's content (its rule id and version stay)."""
    row = version_or_404(row_id)
    form = build_form(request.form, **editor_choices())
    if not form.validate():
        return _editor(form, row, status=422)
    try:
        workflow.update_draft(db_session(), row.id, rule_data(form), actor_id(), SYSTEM_CLOCK)
    except (RuleInvalid, UnknownService) as error:
        discard_changes()
        return _editor(form, version_or_404(row_id), error=error, status=422)
    return redirect(url_for("policy.version", row_id=row.id), 303)


@bp.post("/versions/<int:row_id>/submit")
@require_role(*EDITORS)
def submit(row_id: int):
    """Send a draft for review."""
    workflow.submit(db_session(), version_or_404(row_id).id, actor_id(), SYSTEM_CLOCK)
    return redirect(url_for("policy.version", row_id=row_id), 303)


def _editor(form, row, *, error=None, status: int = 200):
    """Render the editor; a refused rule names the part at fault (``conditions[1].op``)."""
    details = (error.details or {}) if error is not None else {}
    return render_template("admin/policy/edit.html", form=form, row=row, error=error,
                           error_path=details.get("path"), succession=_succession(form, row),
                           now=SYSTEM_CLOCK.now()), status


def _succession(form, row):
    """What publishing this draft will do to the version it replaces (a new draft: once a start is chosen)."""
    session = db_session()
    if row is not None:
        return workflow.succession_for(session, row)
    source = session.get(RuleVersion, form.replaces.data) if form.replaces.data else None
    predecessor = workflow.replaceable(session, source.id, source.rule_id) if source is not None else None
    return workflow.succession(session, predecessor, form.effective_from.data)
