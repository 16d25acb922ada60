"""Deciding on a version: simulate it, send it back, approve, publish, retire. Refusals show their code."""

from __future__ import annotations

from flask import abort, current_app, redirect, request, url_for

from admin.policy.common import APPROVERS, READERS, actor_id, bp, version_or_404
from admin.policy.forms import NoteForm, SimulationForm
from core.clock import SYSTEM_CLOCK
from subsidies import workflow
from subsidies.jobs import INLINE_SIMULATION_LIMIT, start_simulation
from web.auth import require_role
from web.database import db_session


def _back(row_id: int, anchor: str = ""):
    return redirect(url_for("policy.version", row_id=row_id) + anchor, 303)


@bp.post("/versions/<int:row_id>/simulate")
@require_role(*READERS)
def simulate(row_id: int):
    """Price the chosen period's stored quotes again with this version added; a long period goes to the worker."""
    form = SimulationForm(request.form)
    if not form.validate():
        abort(422)
    limit = current_app.config.get("POLICY_INLINE_SIMULATION_LIMIT", INLINE_SIMULATION_LIMIT)
    job = start_simulation(db_session(), version_or_404(row_id).id, form.start.data, form.end.data, actor_id(),
                           inline_limit=limit, clock=SYSTEM_CLOCK)
    if job is None:
        return _back(row_id, "#simulation")
    return redirect(url_for("policy.version", row_id=row_id, job=job.id) + "#simulation", 303)


@bp.post("/versions/<int:row_id>/send-back")
@require_role(*APPROVERS)
def send_back(row_id: int):
    """Return a version under review to its author, saying why."""
    form = NoteForm(request.form)
    if not form.validate():
        abort(422)
    workflow.send_back(db_session(), version_or_404(row_id).id, actor_id(), form.note.data.strip(), SYSTEM_CLOCK)
    return _back(row_id)


@bp.post("/versions/<int:row_id>/approve")
@require_role(*APPROVERS)
def approve(row_id: int):
    """Approve a version under review (refused for its author, or when it is not ready)."""
    workflow.approve(db_session(), version_or_404(row_id).id, actor_id(), SYSTEM_CLOCK)
    return _back(row_id)


@bp.post("/versions/<int:row_id>/publish")
@require_role(*APPROVERS)
def publish(row_id: int):
    """Publish an approved version: quotes from now on use it."""
    workflow.publish(db_session(), version_or_404(row_id).id, actor_id(), SYSTEM_CLOCK)
    return _back(row_id)


@bp.post("/versions/<int:row_id>/retire")
@require_role(*APPROVERS)
def retire(row_id: int):
    """Withdraw a published version; quotes already pinned keep their price."""
    form = NoteForm(request.form)
    if not form.validate():
        abort(422)
    workflow.retire(db_session(), version_or_404(row_id).id, actor_id(), form.note.data.strip(), SYSTEM_CLOCK)
    return _back(row_id)
