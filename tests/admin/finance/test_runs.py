"""Runs from the pages: queued as a job, progress shown until done, suggestions confirmed, sign-off."""

from __future__ import annotations

from sqlalchemy import select

from payments import periods
from payments.reconciliation.requests import ReconRunRequest
from payments.reconciliation.runs import ReconConfirmation, ReconResult, ReconRun
from tests.admin.finance.flows import bank_day, completed_bank_run, start_bank_run, work_jobs
from tests.admin.finance.support import csrf, days_ago, text_of


def test_a_started_run_waits_for_the_worker_then_shows_its_results(app, db, officer):
    facts = bank_day(db, officer)
    started = start_bank_run(officer, facts["day"])
    assert started.status_code == 303
    waiting = officer.get(started.location)
    page = text_of(waiting)
    assert waiting.status_code == 200 and "Waiting for a worker" in page
    assert '<meta http-equiv="refresh" content="2">' in page and "<script" not in page
    assert work_jobs(app, db) == 1
    request = db.scalars(select(ReconRunRequest)).one()
    assert (request.status, request.progress) == ("completed", 100)
    run_page = officer.get(officer.get(started.location).location)
    page = text_of(run_page)
    assert "Suggested matches to confirm" in page and "unknown to us" in page
    assert db.get(ReconRun, request.run_id).status == "completed"


def test_the_run_form_reads_vietnamese_dates_and_refuses_bad_ones(officer):
    response = officer.post("/admin/finance/runs", data={"csrf_token": csrf(officer), "kind": "bank",
                                                         "account": "0011004123456", "from": "31/02/2026",
                                                         "to": days_ago(0).strftime("%d/%m/%Y")})
    assert response.status_code == 422 and "Enter the first day as dd/mm/yyyy" in text_of(response)
    future = days_ago(-3).strftime("%d/%m/%Y")
    response = officer.post("/admin/finance/runs", data={"csrf_token": csrf(officer), "kind": "provider",
                                                         "provider": "stripe", "from": future, "to": future})
    assert response.status_code == 422 and "The period cannot end after today." in text_of(response)
    response = officer.post("/admin/finance/runs", data={"csrf_token": csrf(officer), "kind": "provider",
                                                         "provider": "paypal", "from": "01/11/2026",
                                                         "to": "02/11/2026"})
    assert response.status_code == 422 and "Choose a provider, or enter the bank account number." in text_of(response)


def test_an_officer_confirms_a_suggested_match(app, db, officer):
    facts, run_id = completed_bank_run(app, db, officer)
    suggestion = db.scalars(select(ReconResult).where(ReconResult.run_id == run_id,
                                                      ReconResult.outcome == "suggested")).one()
    assert suggestion.reference == facts["suggested"].public_id
    path = f"/admin/finance/runs/{run_id}/suggestions/{suggestion.id}/confirm"
    confirmed = officer.post(path, data={"csrf_token": csrf(officer)})
    assert confirmed.status_code == 303
    assert db.scalars(select(ReconConfirmation)).one().reference == facts["suggested"].public_id
    assert "Confirmed" in text_of(officer.get(f"/admin/finance/runs/{run_id}"))
    again = officer.post(path, data={"csrf_token": csrf(officer)})
    assert again.status_code == 409 and "already been confirmed" in text_of(again)


def test_an_approver_signs_off_a_completed_run_and_the_period_is_then_refused(app, db, officer, approver):
    facts, run_id = completed_bank_run(app, db, officer)
    assert "Sign off this run" not in text_of(officer.get(f"/admin/finance/runs/{run_id}"))
    signed = approver.post(f"/admin/finance/runs/{run_id}/sign-off", data={"csrf_token": csrf(approver)})
    assert signed.status_code == 303
    assert db.get(ReconRun, run_id).status == "signed_off"
    assert periods.is_closed(db, facts["day"])  # the ledger takes no more postings dated that day
    twice = approver.post(f"/admin/finance/runs/{run_id}/sign-off", data={"csrf_token": csrf(approver)})
    assert twice.status_code == 409 and "Only a completed run" in text_of(twice)
    refused = start_bank_run(officer, facts["day"])
    assert work_jobs(app, db) == 1
    page = text_of(officer.get(refused.location))
    assert "The run was refused" in page and "This period is signed off" in page
    assert db.scalar(select(ReconRunRequest.status).order_by(ReconRunRequest.id.desc()).limit(1)) == "failed"


def test_run_history_lists_runs_and_requests(app, db, officer):
    _, run_id = completed_bank_run(app, db, officer)
    page = text_of(officer.get("/admin/finance/runs"))
    assert f"#{run_id}" in page and "bank:0011004123456" in page and "Ngô Thị Thu" in page
