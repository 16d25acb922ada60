"""Reading the rules: what is in force on a chosen day, the work queue, a rule's history, version diffs."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, render_template, request
from sqlalchemy import select

from admin.policy.chart import impact_chart
from admin.policy.common import READERS, actor_names, bp, version_or_404
from admin.policy.forms import DayForm, NoteForm, SimulationForm
from admin.policy.messages import problem_text
from core.clock import SYSTEM_CLOCK
from core.outbox import OutboxJob
from subsidies.catalogue import list_services
from subsidies.jobs import SIMULATE_JOB
from subsidies.rule_queries import diff_versions, ended_early, history, rules_in_force
from subsidies.rule_store import RuleVersion
from subsidies.workflow import publication_problems, succession_for
from web.auth import current_principal, require_role
from web.database import db_session

#: Statuses listed as work in progress on the start page.
OPEN_STATUSES = ("draft", "in_review", "approved")
#: Seconds between reloads of a page watching a simulation in the worker.
REFRESH_SECONDS = 3


@bp.get("/")
@require_role(*READERS)
def index():
    """Services and the rules in force on the chosen day (today by default), and the versions in progress."""
    form = DayForm(request.args)
    if not form.validate():
        abort(400)
    day = form.day.data or SYSTEM_CLOCK.today_in_vietnam()
    session = db_session()
    in_force = rules_in_force(session, day)
    open_rows = session.scalars(select(RuleVersion).where(RuleVersion.status.in_(OPEN_STATUSES))
                                .order_by(RuleVersion.rule_id, RuleVersion.version)).all()
    return render_template("admin/policy/index.html", form=form, day=day, services=list_services(session),
                           in_force=in_force, open_rows=open_rows, ended=ended_early(session), now=SYSTEM_CLOCK.now())


@bp.get("/rules/<rule_id>")
@require_role(*READERS)
def rule_history(rule_id: str):
    """Every version of one rule with its audit trail."""
    versions = history(db_session(), rule_id)
    if not versions:
        abort(404)
    actors = {e.actor_id for _row, events in versions for e in events} | {r.author_id for r, _e in versions}
    return render_template("admin/policy/history.html", rule_id=rule_id, versions=versions,
                           names=actor_names(actors), ended=ended_early(db_session()), now=SYSTEM_CLOCK.now())


@bp.get("/rules/<rule_id>/diff")
@require_role(*READERS)
def rule_diff(rule_id: str):
    """Two versions of one rule side by side, field by field (``?a=1&b=2``)."""
    rows = {row.version: row for row, _events in history(db_session(), rule_id)}
    try:
        a, b = int(request.args.get("a", "")), int(request.args.get("b", ""))
    except ValueError:
        abort(400)
    if a not in rows or b not in rows:
        abort(404)
    changes = diff_versions(rows[a].definition, rows[b].definition)
    return render_template("admin/policy/diff.html", rule_id=rule_id, a=rows[a], b=rows[b], changes=changes,
                           versions=sorted(rows), now=SYSTEM_CLOCK.now())


@bp.get("/versions/<int:row_id>")
@require_role(*READERS)
def version(row_id: int):
    """One version: its content, what still stops it, its simulation report and the next steps for you."""
    row = version_or_404(row_id)
    found = publication_problems(db_session(), row) if row.status in OPEN_STATUSES else []
    problems = [problem_text(problem.to_dict()) for problem in found]
    report = row.simulation_report
    today = SYSTEM_CLOCK.today_in_vietnam()
    job = _simulation_job(row, request.args.get("job", type=int))
    page = render_template("admin/policy/version.html", row=row, rule=row.definition, problems=problems,
                           succession=succession_for(db_session(), row), report=report,
                           chart=impact_chart(report) if report else None, job=job,
                           roles=current_principal().roles, names=actor_names({row.author_id, row.approver_id,
                                                                                 row.second_approver_id}),
                           simulate_form=SimulationForm(data=_default_period(row, today)), note_form=NoteForm(),
                           now=SYSTEM_CLOCK.now())
    # A plain Refresh header reloads the page while the worker runs: no script, nothing for the CSP to block.
    headers = {"Refresh": str(REFRESH_SECONDS)} if job is not None and job.status in ("pending", "running") else {}
    return page, 200, headers


def _simulation_job(row: RuleVersion, job_id: int | None) -> OutboxJob | None:
    """The background dry run ``job_id`` of this version, if that is what it is."""
    job = db_session().get(OutboxJob, job_id) if job_id else None
    if job is None or job.name != SIMULATE_JOB or job.payload.get("row_id") != row.id:
        return None
    return job


def _default_period(row: RuleVersion, today: date) -> dict[str, date]:
    """Suggest a period from the version's start (or today) to its end (or a year on)."""
    start = min(row.effective_from, today)
    end = row.effective_to or max(row.effective_from, today) + timedelta(days=365)
    return {"start": start, "end": end}
