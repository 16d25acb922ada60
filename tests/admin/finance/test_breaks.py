"""The break workbench: urgency and age, and a break's life from open to resolved with four eyes."""

from __future__ import annotations

from sqlalchemy import select

from payments.reconciliation.runs import BreakEvent, ReconBreak
from tests.admin.finance.flows import DAY_BACK, completed_bank_run
from tests.admin.finance.support import csrf, text_of


def _break(db, kind: str) -> ReconBreak:
    return db.scalars(select(ReconBreak).where(ReconBreak.kind == kind)).one()


def _step(client, break_id: int, to: str, note: str = ""):
    return client.post(f"/admin/finance/breaks/{break_id}/move",
                       data={"csrf_token": csrf(client), "to": to, "note": note})


def test_the_list_shows_live_breaks_with_their_age_and_filters_by_bucket(app, db, officer):
    completed_bank_run(app, db, officer)
    page = text_of(officer.get("/admin/finance/breaks"))
    assert "2 breaks" in page and "unknown to us" in page and "missing at the provider" in page
    assert "3–7 days" in page
    assert "2 breaks" in text_of(officer.get("/admin/finance/breaks?age=3-7"))
    assert "0 breaks" in text_of(officer.get("/admin/finance/breaks?age=0-2"))
    only = text_of(officer.get("/admin/finance/breaks?kind=missing_internally"))
    assert "1 breaks" in only and "missing at the provider" not in only.split("</select>")[-1]


def test_a_break_goes_from_open_to_resolved_with_a_second_person_approving(app, db, officer, approver):
    completed_bank_run(app, db, officer)
    found = _break(db, "missing_internally")
    page = text_of(officer.get(f"/admin/finance/breaks/{found.id}"))
    assert f"{DAY_BACK} days old" in page and "99.000" in page.replace(",", ".")
    assert _step(officer, found.id, "investigating").status_code == 303
    no_note = _step(officer, found.id, "resolution_proposed")
    assert no_note.status_code == 422 and "Explain the proposed resolution in the note." in text_of(no_note)
    proposed = _step(officer, found.id, "resolution_proposed", "Chuyển vào tài khoản tạm giữ, chờ người nộp")
    assert proposed.status_code == 303
    waiting = text_of(officer.get(f"/admin/finance/breaks/{found.id}"))
    assert "A finance approver other than the proposer approves the resolution." in waiting
    approved = approver.post(f"/admin/finance/breaks/{found.id}/approve", data={"csrf_token": csrf(approver)})
    assert approved.status_code == 303
    assert _step(officer, found.id, "resolved").status_code == 303
    db.refresh(found)
    assert found.status == "resolved" and found.approved_by != found.proposed_by
    events = db.scalars(select(BreakEvent.to_status).where(BreakEvent.break_id == found.id)
                        .order_by(BreakEvent.id)).all()
    assert events == ["open", "investigating", "resolution_proposed", "approved", "resolved"]
    history = text_of(officer.get(f"/admin/finance/breaks/{found.id}"))
    assert "Đặng Văn Phúc" in history and "Ngô Thị Thu" in history and "tạm giữ" in history


def test_the_proposer_cannot_approve_and_is_told_so(app, db, officer, approver):
    completed_bank_run(app, db, officer)
    found = _break(db, "missing_at_provider")
    assert _step(approver, found.id, "resolution_proposed", "Ngân hàng xác nhận chưa nhận").status_code == 303
    refused = approver.post(f"/admin/finance/breaks/{found.id}/approve", data={"csrf_token": csrf(approver)})
    assert refused.status_code == 403
    assert "You proposed this resolution, so another finance approver must approve it." in text_of(refused)
    db.refresh(found)
    assert found.status == "resolution_proposed" and found.approved_by is None


def test_a_step_the_lifecycle_does_not_allow_is_refused(app, db, officer):
    completed_bank_run(app, db, officer)
    found = _break(db, "missing_at_provider")
    response = _step(officer, found.id, "resolved")
    assert response.status_code == 409 and "This break cannot make that step" in text_of(response)
    assert _step(officer, found.id, "approved").status_code == 422  # approving has its own, approver-only route
    assert officer.get("/admin/finance/breaks/999999").status_code == 404


def test_a_provider_status_answer_shows_in_words_without_a_state_arrow(app, db, officer):
    completed_bank_run(app, db, officer)
    found = _break(db, "missing_at_provider")
    db.add(BreakEvent(break_id=found.id, from_status="open", to_status="open", actor="status-query",
                      note="denied: expired, 200.000 ₫, reference GW0000000001", at=found.opened_at))
    db.flush()
    page = text_of(officer.get(f"/admin/finance/breaks/{found.id}"))
    assert "Provider status query: the provider does not confirm the payment (expired, 200.000 ₫" in page
    assert "Open → Open" not in page and "open → open" not in page
