"""Payment reminders: one per bill and lead time, to consenting payers of open bills with a due date, never twice."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from core import outbox
from core.clock import FixedClock
from core.outbox import OutboxJob
from identity.contact import withdraw_email_consent
from identity.models import Citizen
from mailing import jobs as mailing_jobs
from mailing.jobs import REMINDER_JOB, stage_reminders
from payments.bills import create_bill
from tests.mailing.test_receipt_mail import ADDRESS, consent
from tests.payments.factories import new_bill


def make_bill(factory, clock, due: date | None, **overrides) -> str:
    with factory() as session, session.begin():
        fields = {"payer_id_hash": "payer-hash-1", "due_date": due, **overrides}
        return create_bill(session, new_bill(**fields), clock=clock).public_id


def sweep(factory, clock) -> int:
    with factory() as session, session.begin():
        return stage_reminders(session, clock=clock)


def run_all(factory) -> None:
    with factory() as session:
        ids = list(session.scalars(select(OutboxJob.id).where(OutboxJob.name == REMINDER_JOB,
                                                              OutboxJob.status == "pending")))
    for job_id in ids:
        assert outbox.run_job(factory, job_id, lease_seconds=60).status == "done"


def test_one_reminder_per_bill_within_the_lead_time_and_never_twice(committing, clock, mail_to, citizen):
    consent(committing, citizen)
    # 2 March 2026 in Hà Nội: due on the 4th is within 3 days; the 10th is not yet; no due date, never.
    soon = make_bill(committing, clock, date(2026, 3, 4))
    make_bill(committing, clock, date(2026, 3, 10))
    make_bill(committing, clock, None)
    make_bill(committing, clock, date(2026, 3, 1))  # overdue: past its due date, no "due soon" reminder
    make_bill(committing, clock, date(2026, 3, 4), payer_id_hash="someone-else")  # a payer who did not agree
    assert sweep(committing, clock) == 1
    assert sweep(committing, clock) == 0  # the next hour's sweep
    run_all(committing)
    clock.advance(hours=1)
    assert sweep(committing, clock) == 0  # sent: never again for this lead time
    assert len(mail_to.inbox.messages) == 1
    [(recipients, message)] = mail_to.inbox.messages
    assert recipients == [ADDRESS]
    assert message["Subject"] == "Nhắc nộp phí: Cấp Phiếu lý lịch tư pháp đến hạn ngày 04/03/2026"
    body = message.get_content().replace("\r\n", "\n")
    assert "Số tiền phải nộp: 200.000 ₫" in body and "Hạn nộp: 04/03/2026" in body
    assert f"https://pay.test/bills/{soon}\n" in body


def test_each_lead_time_reminds_once_and_the_nearest_applies(committing, clock, mail_to, citizen):
    consent(committing, citizen)
    mailing_jobs.configure(mailing_jobs._CONFIG.mailer, base_url="https://pay.test", reminder_days=(7, 1))
    make_bill(committing, clock, date(2026, 3, 8))  # 6 days ahead: the week's reminder, not yet the day's
    assert sweep(committing, clock) == 1
    run_all(committing)
    later = FixedClock(clock.now())
    later.advance(days=5)  # 7 March: one day ahead
    assert sweep(committing, later) == 1
    run_all(committing)
    assert sweep(committing, later) == 0
    assert len(mail_to.inbox.messages) == 2


def test_withdrawn_before_sending_sends_nothing(committing, clock, mail_to, citizen):
    consent(committing, citizen)
    make_bill(committing, clock, date(2026, 3, 3))
    assert sweep(committing, clock) == 1
    with committing() as session, session.begin():
        withdraw_email_consent(session, session.get(Citizen, citizen))
    run_all(committing)
    assert mail_to.inbox.messages == []
    assert sweep(committing, clock) == 0  # no consent in force: nothing staged
