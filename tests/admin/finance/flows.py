"""Steps the finance tests share: import a statement, start a run and let the worker perform it."""

from __future__ import annotations

import io

from sqlalchemy import select

from core.outbox import OutboxJob, run_job
from payments.reconciliation.jobs import RUN_JOB
from tests.admin.finance.support import ACCOUNT, at_vietnam, csrf, days_ago, payment
from tests.payments.reconciliation.test_bank import statement

#: The day the bank runs look at: old enough that a payment without a line is a break, not pending.
DAY_BACK = 5


def bank_day(db, client) -> dict:
    """A day with a transfer the bank shows without our reference (a suggestion), a credit nobody claims
    (missing internally) and a payment the bank never shows (missing at the provider); imported."""
    day = days_ago(DAY_BACK)
    suggested = payment(db, amount=150_000, finished_at=at_vietnam(day, 9), provider="vietqr")
    lost = payment(db, amount=8_000, finished_at=at_vietnam(day, 10), provider="vietqr", service="TLHT")
    content = statement((day, 150_000, "NOP PHI LY LICH TU PHAP"), (day, 99_000, "CHUYEN TIEN KHONG RO NOI DUNG"))
    response = client.post("/admin/finance/imports", content_type="multipart/form-data",
                           data={"csrf_token": csrf(client), "format": "vn_bank",
                                 "report": (io.BytesIO(content), "sao-ke.csv")})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"day": day, "suggested": suggested, "lost": lost}


def start_bank_run(client, day, account: str = ACCOUNT):
    """Post the run form for ``account`` over ``day``; return the response."""
    return client.post("/admin/finance/runs", data={"csrf_token": csrf(client), "kind": "bank", "account": account,
                                                    "from": f"{day:%d/%m/%Y}", "to": f"{day:%d/%m/%Y}"})


def work_jobs(app, db) -> int:
    """Perform every pending run job as the worker would; return how many ran."""
    factory = app.extensions["gateway.db"].session_factory
    ids = db.scalars(select(OutboxJob.id).where(OutboxJob.name == RUN_JOB, OutboxJob.status == "pending")).all()
    for job_id in ids:
        assert run_job(factory, job_id, lease_seconds=60).status == "done"
    return len(ids)


def completed_bank_run(app, db, client) -> tuple[dict, int]:
    """Import the bank day, run it; return the day's facts and the run id."""
    facts = bank_day(db, client)
    started = start_bank_run(client, facts["day"])
    assert started.status_code == 303, started.get_data(as_text=True)
    assert work_jobs(app, db) == 1
    finished = client.get(started.location)
    assert finished.status_code == 303 and "/admin/finance/runs/" in finished.location
    return facts, int(finished.location.rstrip("/").rsplit("/", 1)[1])
