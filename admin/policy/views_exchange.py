"""YAML exchange: export versions for review in files, import a file as new drafts."""

from __future__ import annotations

from flask import Response, abort, redirect, render_template, request, url_for

from admin.policy.common import EDITORS, READERS, actor_id, bp, discard_changes
from admin.policy.forms import ImportForm
from core.clock import SYSTEM_CLOCK
from subsidies.errors import RuleInvalid, UnknownService
from subsidies.exchange import export_yaml, import_yaml_drafts
from subsidies.rule_store import STATUSES
from web.auth import require_role
from web.database import db_session

#: A rules file is small text; anything larger is refused before parsing.
MAX_IMPORT_BYTES = 512 * 1024


@bp.get("/export.yaml")
@require_role(*READERS)
def export():
    """Versions in ``?status=`` (repeatable; default published) as a YAML file."""
    statuses = tuple(request.args.getlist("status")) or ("published",)
    if set(statuses) - set(STATUSES):
        abort(400)
    return Response(export_yaml(db_session(), statuses), mimetype="application/yaml",
                    headers={"Content-Disposition": 'attachment; filename="rules.yaml"'})


@bp.get("/import")
@require_role(*EDITORS)
def import_form():
    """The upload form."""
    return render_template("admin/policy/import.html", form=ImportForm(), error=None, now=SYSTEM_CLOCK.now())


@bp.post("/import")
@require_role(*EDITORS)
def import_file():
    """Store every rule of the uploaded file as a new draft; one bad rule refuses the whole file."""
    upload = request.files.get("file")
    raw = upload.read(MAX_IMPORT_BYTES + 1) if upload else b""
    error = None
    if not raw:
        error = RuleInvalid("choose a YAML file with a top-level 'rules' list")
    elif len(raw) > MAX_IMPORT_BYTES:
        error = RuleInvalid(f"the file is larger than {MAX_IMPORT_BYTES // 1024} KiB")
    if error is None:
        try:
            rows = import_yaml_drafts(db_session(), raw.decode("utf-8"), actor_id(),
                                      source=upload.filename or "upload", clock=SYSTEM_CLOCK)
        except (RuleInvalid, UnknownService, UnicodeDecodeError) as exc:
            discard_changes()  # drafts stored before the bad rule must go too
            error = exc if not isinstance(exc, UnicodeDecodeError) else RuleInvalid("the file is not UTF-8 text")
    if error is not None:
        return render_template("admin/policy/import.html", form=ImportForm(), error=error,
                               now=SYSTEM_CLOCK.now()), 422
    return redirect(url_for("policy.index", imported=len(rows)), 303)
