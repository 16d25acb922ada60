"""The policy back office through the test client: who may do what, the whole cycle, refusals and bad input."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import func, select

from core.outbox import run_job
from identity.models import StaffAccount
from identity.roles import FINANCE_OFFICER, POLICY_APPROVER, POLICY_EDITOR, SYSTEM_ADMIN
from identity.staff import grant_role
from subsidies.rule_store import RuleEvent, RuleVersion
from tests.admin.policy_support import draft_form, hanoi_quote
from tests.web.oidc_support import login


def _versions(db) -> int:
    return db.scalar(select(func.count()).select_from(RuleVersion))


def _draft(editor, today) -> int:
    created = editor.post("/admin/policy/drafts/new", data=draft_form(editor.token, today))
    assert created.status_code == 303, created.get_data(as_text=True)[:3000]
    return int(created.location.rsplit("/", 1)[1])


def _simulate(client, row_id, today):
    period = {"csrf_token": client.token, "start": today.isoformat(), "end": today.isoformat()}
    return client.post(f"/admin/policy/versions/{row_id}/simulate", data=period)


def test_readers_see_the_rules_and_others_are_refused(app, as_role, seeded):
    for role in (POLICY_EDITOR, POLICY_APPROVER):
        page = as_role(role).get("/admin/policy/?day=2024-07-01")
        assert page.status_code == 200
        assert "HN-LLTP-VNEID@1" in page.get_data(as_text=True), "the 2024 support is in force that day"
    assert as_role(FINANCE_OFFICER).get("/admin/policy/").status_code == 403
    anonymous = app.test_client().get("/admin/policy/")
    assert anonymous.status_code == 302 and "/auth/staff/login" in anonymous.location
    citizen = app.test_client()
    login(citizen)
    assert citizen.get("/admin/policy/").status_code == 302


def test_editors_cannot_decide_and_approvers_cannot_draft(as_role, seeded, today):
    editor, approver = as_role(POLICY_EDITOR), as_role(POLICY_APPROVER)
    row_id = _draft(editor, today)
    assert editor.post(f"/admin/policy/versions/{row_id}/approve", data={"csrf_token": editor.token}).status_code == 403
    assert approver.post("/admin/policy/drafts/new", data=draft_form(approver.token, today)).status_code == 403
    assert approver.post(f"/admin/policy/versions/{row_id}/submit",
                         data={"csrf_token": approver.token}).status_code == 403


def test_a_draft_is_simulated_approved_published_and_the_next_quote_explains_it(app, as_role, seeded, today):
    hanoi_quote(seeded, today)
    editor, approver = as_role(POLICY_EDITOR), as_role(POLICY_APPROVER)
    row_id = _draft(editor, today)
    assert _simulate(editor, row_id, today).status_code == 303
    page = editor.get(f"/admin/policy/versions/{row_id}").get_data(as_text=True)
    assert "HN-LLTP-VNEID" in page and "<svg" in page, "the report has a chart"
    report = seeded.get(RuleVersion, row_id).simulation_report
    assert (report["changed"], report["delta"]) == (1, -200000)
    assert editor.post(f"/admin/policy/versions/{row_id}/submit", data={"csrf_token": editor.token}).status_code == 303
    for step in ("approve", "publish"):
        answer = approver.post(f"/admin/policy/versions/{row_id}/{step}", data={"csrf_token": approver.token})
        assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    row = seeded.get(RuleVersion, row_id)
    assert row.status == "published" and row.approver_id != row.author_id
    actions = seeded.scalars(select(RuleEvent.action).where(RuleEvent.rule_version_id == row_id)
                             .order_by(RuleEvent.id)).all()
    assert actions == ["created", "simulated", "submit", "approve", "publish"]
    citizen = app.test_client()
    quote = citizen.post("/api/v1/quotes", json={
        "service_code": "LLTP", "channel": "VNEID", "decision_date": today.isoformat(), "birthdate": "1990-01-01",
        "residence_province_code": "01", "eid_level": 2}).get_json()
    applied = [e for layer in quote["explanation"] for e in layer["entries"] if e["applied"]]
    assert quote["amount_due"] == 0
    assert ("HN-LLTP-VNEID", row.version) in [(e["rule_id"], e["version"]) for e in applied]
    assert "Hà Nội hỗ trợ phí LLTP qua VNeID (gia hạn)" in citizen.get("/fees").get_data(as_text=True)


def test_the_author_cannot_approve_through_the_ui(as_role, seeded, today):
    editor = as_role(POLICY_EDITOR)
    account = seeded.scalars(select(StaffAccount).where(StaffAccount.subject == "staff-policy-editor")).one()
    admin = seeded.scalars(select(StaffAccount).where(StaffAccount.subject == "staff-system-admin")).one()
    grant_role(seeded, account, POLICY_APPROVER, granted_by=admin)
    row_id = _draft(editor, today)
    _simulate(editor, row_id, today)
    editor.post(f"/admin/policy/versions/{row_id}/submit", data={"csrf_token": editor.token})
    refused = editor.post(f"/admin/policy/versions/{row_id}/approve", data={"csrf_token": editor.token})
    assert refused.status_code == 403
    assert "author_cannot_approve" in refused.get_data(as_text=True)
    assert seeded.get(RuleVersion, row_id).status == "in_review"
    as_json = editor.post(f"/admin/policy/versions/{row_id}/approve", data={"csrf_token": editor.token},
                          headers={"Accept": "application/json"})
    assert as_json.get_json()["code"] == "author_cannot_approve"


def test_approval_without_a_simulation_is_refused_with_the_reason(as_role, seeded, today):
    editor, approver = as_role(POLICY_EDITOR), as_role(POLICY_APPROVER)
    row_id = _draft(editor, today)
    editor.post(f"/admin/policy/versions/{row_id}/submit", data={"csrf_token": editor.token})
    refused = approver.post(f"/admin/policy/versions/{row_id}/approve", data={"csrf_token": approver.token})
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "rule_not_ready" in text and "Chưa có báo cáo mô phỏng kèm theo. Hãy chạy mô phỏng" in text


def test_a_rule_that_breaks_the_vocabulary_is_refused_with_its_place_and_nothing_is_stored(as_role, seeded, today):
    editor = as_role(POLICY_EDITOR)
    before = _versions(seeded)
    refused = editor.post("/admin/policy/drafts/new",
                          data=draft_form(editor.token, today, **{"conditions-0-op": "has_any"}))
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "rule_invalid" in text and "conditions[0].op" in text
    assert 'value="Hà Nội hỗ trợ phí LLTP qua VNeID (gia hạn)"' in text, "the form keeps what was typed"
    assert _versions(seeded) == before


def test_form_values_of_the_wrong_type_are_refused_before_the_service(as_role, seeded, today):
    editor = as_role(POLICY_EDITOR)
    before = _versions(seeded)
    bad = draft_form(editor.token, today, effective_from="31/12/2026", **{"effects-0-amount": "lots",
                                                                          "conditions-0-field": "colour"})
    refused = editor.post("/admin/policy/drafts/new", data=bad)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'aria-invalid="true"' in text and "Không phải là số nguyên hợp lệ." in text
    assert _versions(seeded) == before


def test_a_draft_is_edited_and_its_history_and_diff_show_the_change(as_role, seeded, today):
    editor = as_role(POLICY_EDITOR)
    row_id = _draft(editor, today)
    edit_page = editor.get(f"/admin/policy/versions/{row_id}/edit")
    assert edit_page.status_code == 200 and 'value="200000"' in edit_page.get_data(as_text=True)
    changed = editor.post(f"/admin/policy/versions/{row_id}/edit",
                          data=draft_form(editor.token, today, **{"effects-0-amount": "150000"}))
    assert changed.status_code == 303
    assert seeded.get(RuleVersion, row_id).definition["effects"] == [{"type": "amount_off", "amount": 150000}]
    history = editor.get("/admin/policy/rules/HN-LLTP-VNEID").get_data(as_text=True)
    assert "edited" in history and "Bùi Thị Lan" in history, "actors are shown by name"
    diff = editor.get("/admin/policy/rules/HN-LLTP-VNEID/diff?a=2&b=3").get_data(as_text=True)
    assert "effects[0].amount" in diff and "150000" in diff and "effective_from" in diff
    assert editor.get("/admin/policy/rules/HN-LLTP-VNEID/diff?a=2&b=9").status_code == 404
    assert editor.get("/admin/policy/rules/NO-SUCH-RULE").status_code == 404


def test_only_drafts_can_be_edited(as_role, seeded):
    published = seeded.scalars(select(RuleVersion).where(RuleVersion.rule_id == "LLTP-BASE")).first()
    editor = as_role(POLICY_EDITOR)
    answer = editor.get(f"/admin/policy/versions/{published.id}/edit")
    assert answer.status_code == 409 and "rule_immutable" in answer.get_data(as_text=True)


def test_send_back_and_retire_need_a_reason_and_are_audited(as_role, seeded, today):
    editor, approver = as_role(POLICY_EDITOR), as_role(POLICY_APPROVER)
    row_id = _draft(editor, today)
    editor.post(f"/admin/policy/versions/{row_id}/submit", data={"csrf_token": editor.token})
    assert approver.post(f"/admin/policy/versions/{row_id}/send-back",
                         data={"csrf_token": approver.token, "note": ""}).status_code == 422
    assert approver.post(f"/admin/policy/versions/{row_id}/send-back",
                         data={"csrf_token": approver.token, "note": "cite the resolution"}).status_code == 303
    assert seeded.get(RuleVersion, row_id).status == "draft"
    base = seeded.scalars(select(RuleVersion).where(RuleVersion.rule_id == "TLHT-BASE")).one()
    assert approver.post(f"/admin/policy/versions/{base.id}/retire",
                         data={"csrf_token": approver.token, "note": "replaced"}).status_code == 303
    seeded.refresh(base)
    assert base.status == "retired"


def test_a_long_simulation_runs_in_the_worker_and_the_page_follows_it(app, as_role, seeded, today, monkeypatch):
    monkeypatch.setitem(app.config, "POLICY_INLINE_SIMULATION_LIMIT", 1)
    hanoi_quote(seeded, today, "citizen-1")
    hanoi_quote(seeded, today, "citizen-2")
    editor = as_role(POLICY_EDITOR)
    row_id = _draft(editor, today)
    staged = _simulate(editor, row_id, today)
    assert staged.status_code == 303 and "job=" in staged.location
    job_id = int(staged.location.split("job=")[1].split("#")[0])
    waiting = editor.get(f"/admin/policy/versions/{row_id}?job={job_id}")
    assert waiting.headers["Refresh"] == "3" and "2" in waiting.get_data(as_text=True)
    assert seeded.get(RuleVersion, row_id).simulation_report is None
    assert run_job(app.extensions["gateway.db"].session_factory, job_id, lease_seconds=60).status == "done"
    finished = editor.get(f"/admin/policy/versions/{row_id}?job={job_id}")
    assert "Refresh" not in finished.headers
    seeded.expire_all()
    assert seeded.get(RuleVersion, row_id).simulation_report["changed"] == 2


IMPORTED = """
rules:
  - rule_id: TLHT-FREE-POOR
    version: 1
    status: draft
    service: TLHT
    layer: national
    title: {vi: "Miễn phí trích lục cho hộ nghèo (ví dụ)", en: "Free extracts for poor households (example)"}
    effective_from: 2030-01-01
    legal_basis: [{doc: "1/2029/TT-BTC (example)", issuer: "Bộ Tài chính", date: 2029-06-01, article: "Điều 2"}]
    conditions: [{field: categories, op: has_any, value: [POOR_HOUSEHOLD]}]
    effects: [{type: exempt}]
"""


def test_yaml_import_stores_drafts_and_export_gives_them_back(as_role, seeded):
    editor = as_role(POLICY_EDITOR)
    before = _versions(seeded)
    done = editor.post("/admin/policy/import", data={"csrf_token": editor.token,
                                                      "file": (io.BytesIO(IMPORTED.encode()), "rules.yaml")})
    assert done.status_code == 303 and _versions(seeded) == before + 1
    row = seeded.scalars(select(RuleVersion).where(RuleVersion.rule_id == "TLHT-FREE-POOR")).one()
    assert row.status == "draft" and row.author_id.startswith("staff:")
    exported = editor.get("/admin/policy/export.yaml?status=draft")
    assert exported.mimetype == "application/yaml" and "TLHT-FREE-POOR" in exported.get_data(as_text=True)
    assert editor.get("/admin/policy/export.yaml?status=lost").status_code == 400


def test_a_yaml_file_with_one_bad_rule_imports_nothing(as_role, seeded):
    editor = as_role(POLICY_EDITOR)
    before = _versions(seeded)
    bad = IMPORTED + IMPORTED.split("rules:")[1].replace("TLHT-FREE-POOR", "TLHT-OTHER").replace("TLHT\n", "NOPE\n")
    refused = editor.post("/admin/policy/import", data={"csrf_token": editor.token,
                                                         "file": (io.BytesIO(bad.encode()), "rules.yaml")})
    assert refused.status_code == 422 and "unknown_service" in refused.get_data(as_text=True)
    assert _versions(seeded) == before
    empty = editor.post("/admin/policy/import", data={"csrf_token": editor.token})
    assert empty.status_code == 422


def test_a_retroactive_start_needs_a_second_different_approver(as_role, seeded, today):
    admin = seeded.scalars(select(StaffAccount).where(StaffAccount.subject == "staff-system-admin")).one()
    grant_role(seeded, admin, POLICY_APPROVER, granted_by=None)  # from the command line
    editor, approver, second = as_role(POLICY_EDITOR), as_role(POLICY_APPROVER), as_role(SYSTEM_ADMIN)
    yesterday = today - timedelta(days=1)
    created = editor.post("/admin/policy/drafts/new", data=draft_form(editor.token, yesterday))
    row_id = int(created.location.rsplit("/", 1)[1])
    _simulate(editor, row_id, yesterday)
    editor.post(f"/admin/policy/versions/{row_id}/submit", data={"csrf_token": editor.token})
    assert approver.post(f"/admin/policy/versions/{row_id}/approve",
                         data={"csrf_token": approver.token}).status_code == 303
    page = approver.get(f"/admin/policy/versions/{row_id}").get_data(as_text=True)
    assert "cần thêm một người phê duyệt khác" in page
    again = approver.post(f"/admin/policy/versions/{row_id}/approve", data={"csrf_token": approver.token})
    assert again.status_code == 403 and "author_cannot_approve" in again.get_data(as_text=True)
    assert second.post(f"/admin/policy/versions/{row_id}/approve",
                       data={"csrf_token": second.token}).status_code == 303
    assert seeded.get(RuleVersion, row_id).status == "approved"
