"""The beneficiary registry: records with filters (personal ids masked), CSV import, import history.

Editors import; editors and approvers read. Personal ids reach these views masked only
(``subsidies.registry_queries``), and nothing here puts one in a URL or a log line.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from admin.policy.common import EDITORS, READERS, actor_id, actor_names, bp, discard_changes
from admin.policy.forms import RegistryFilterForm, RegistryImportForm, options
from core.clock import SYSTEM_CLOCK
from subsidies.beneficiaries import CSV_COLUMNS, import_csv
from subsidies.errors import RegistryImportInvalid
from subsidies.registry_queries import RegistryFilter, find_records, import_batches, sources
from web.auth import require_role
from web.database import db_session

#: A registry file is text of at most ``MAX_IMPORT_ROWS`` short lines; anything larger is refused unread.
MAX_CSV_BYTES = 8 * 1024 * 1024


@bp.get("/beneficiaries")
@require_role(*READERS)
def beneficiaries():
    """Registry records narrowed by category, source, import batch and validity day, a page at a time."""
    session = db_session()
    form = RegistryFilterForm(request.args)
    form.source.choices = options(sources(session), blank=True)
    if not form.validate():
        abort(400)
    filters = RegistryFilter(category=form.category.data or None, source=form.source.data or None,
                             batch=(form.batch.data or "").strip() or None, valid_on=form.valid_on.data)
    result = find_records(session, filters, request.args.get("page", 1, type=int))
    links = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("admin/policy/beneficiaries.html", form=form, result=result, links=links,
                           now=SYSTEM_CLOCK.now())


@bp.get("/beneficiaries/import")
@require_role(*EDITORS)
def beneficiary_import_form():
    """The CSV upload form."""
    return _import_page(RegistryImportForm())


@bp.post("/beneficiaries/import")
@require_role(*EDITORS)
def beneficiary_import():
    """Add the file's records to the registry; one bad line refuses the whole file, known lines are skipped."""
    form = RegistryImportForm(request.form)
    if not form.validate():
        return _import_page(form, status=422)
    text, error = _read_upload()
    if error is None:
        try:
            result = import_csv(db_session(), text, source=form.source.data, imported_by=actor_id(),
                                clock=SYSTEM_CLOCK)
        except RegistryImportInvalid as exc:
            discard_changes()
            error = exc
    if error is not None:
        return _import_page(form, error=error, status=422)
    return redirect(url_for("policy.beneficiary_batches", added=result.added,
                            skipped=result.skipped_duplicates), 303)


@bp.get("/beneficiaries/batches")
@require_role(*READERS)
def beneficiary_batches():
    """The imports that added records, newest first, and the outcome of the import just made."""
    batches = import_batches(db_session())
    outcome = None
    if request.args.get("added", type=int) is not None:
        outcome = {"added": request.args.get("added", type=int), "skipped": request.args.get("skipped", 0, type=int)}
    return render_template("admin/policy/beneficiary_batches.html", batches=batches, outcome=outcome,
                           names=actor_names({b.imported_by for b in batches}), now=SYSTEM_CLOCK.now())


def _read_upload() -> tuple[str, RegistryImportInvalid | None]:
    """The uploaded file as text (a spreadsheet's byte-order mark removed), or why it cannot be read."""
    upload = request.files.get("file")
    raw = upload.read(MAX_CSV_BYTES + 1) if upload else b""
    if not raw:
        return "", RegistryImportInvalid(f"choose a CSV file with the header {','.join(CSV_COLUMNS)}")
    if len(raw) > MAX_CSV_BYTES:
        return "", RegistryImportInvalid(f"the file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MiB")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return "", RegistryImportInvalid("the file is not UTF-8 text")


def _import_page(form: RegistryImportForm, *, error: RegistryImportInvalid | None = None, status: int = 200):
    """Render the upload form, with the reason the last file was refused."""
    line = (error.details or {}).get("line") if error is not None else None
    return render_template("admin/policy/beneficiary_import.html", form=form, error=error, line=line,
                           columns=",".join(CSV_COLUMNS), now=SYSTEM_CLOCK.now()), status
