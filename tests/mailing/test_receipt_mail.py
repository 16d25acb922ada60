"""A paid bill's receipt is e-mailed to a payer who agreed, through a real SMTP server: once, in their language,
never without consent, and again after the relay was down."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import func, select, update

from core import outbox
from core.clock import FixedClock
from core.outbox import OutboxJob
from identity.contact import give_email_consent, withdraw_email_consent
from identity.models import Citizen
from mailing.jobs import RECEIPT_JOB
from mailing.models import MailDelivery
from payments.bills import create_bill
from payments.checkout import start_payment
from payments.models.receipts import Receipt
from payments.notifications import check_on_return
from payments.receipts import receipt_number
from payments.starting import PayerSession
from tests.payments.factories import new_bill

ADDRESS = "an.nguyen@example.vn"


def consent(factory, citizen_id: int, *, language: str = "vi", address: str = ADDRESS) -> None:
    with factory() as session, session.begin():
        give_email_consent(session, session.get(Citizen, citizen_id), address, language=language)


def pay(factory, clock, sandbox, citizen_id: int | None, key: str = "k1", **bill) -> Receipt:
    """Create a 200.000 ₫ bill of the citizen and pay it by sandbox card; return its receipt."""
    with factory() as session, session.begin():
        made = create_bill(session, new_bill(payer_id_hash="payer-hash-1", citizen_id=citizen_id, **bill), clock=clock)
        bill_id = made.public_id
    started = start_payment(factory, scope="citizen:1", idempotency_key=key, bill_public_id=bill_id,
                            provider_name="sandbox", payer=PayerSession(eid_level=2, sub="1"),
                            return_url="https://pay.test/r", clock=clock)
    sandbox.pay(started.body["next_url"].rsplit("/", 1)[1], "4242424242424242")
    with factory() as session, session.begin():
        assert check_on_return(session, started.body["payment_id"], clock=clock).status == "succeeded"
    with factory() as session:
        receipt = session.scalars(select(Receipt).order_by(Receipt.id.desc()).limit(1)).one()
        session.expunge(receipt)
        return receipt


def mail_jobs(factory) -> list[OutboxJob]:
    with factory() as session:
        return list(session.scalars(select(OutboxJob).where(OutboxJob.name == RECEIPT_JOB).order_by(OutboxJob.id)))


def run(factory, job_id: int, clock=None) -> outbox.Outcome:
    return outbox.run_job(factory, job_id, lease_seconds=60, **({"clock": clock} if clock else {}))


def test_the_receipt_arrives_once_with_its_number_amount_time_service_and_links(committing, clock, sandbox, mail_to,
                                                                              citizen):
    consent(committing, citizen)
    receipt = pay(committing, clock, sandbox, citizen)
    [job] = mail_jobs(committing)  # staged with the receipt, in its transaction
    assert job.payload == {"receipt_id": receipt.public_id, "citizen_id": citizen}
    assert run(committing, job.id).status == "done"
    assert run(committing, job.id).status == "skipped"  # the queue delivers the id again: the job is done
    with committing() as session, session.begin():  # a lost lease: another worker runs the same job again
        session.execute(update(OutboxJob).where(OutboxJob.id == job.id).values(status="pending"))
        outbox.stage_job(session, RECEIPT_JOB, dict(job.payload))  # and a second job for the same receipt
    for again in mail_jobs(committing):
        assert run(committing, again.id).status == "done"
    assert len(mail_to.inbox.messages) == 1
    [(recipients, message)] = mail_to.inbox.messages
    number = receipt_number(receipt)
    assert recipients == [ADDRESS]
    assert message["Subject"] == f"Biên lai {number}: Cấp Phiếu lý lịch tư pháp"
    assert message["From"] == "Cổng thanh toán <no-reply@pay.test>"
    assert message["Message-ID"] == f"<receipt.{receipt.public_id}@pay.test>"
    body = message.get_content().replace("\r\n", "\n")
    assert f"Số biên lai: {number}" in body
    assert "Dịch vụ: Cấp Phiếu lý lịch tư pháp" in body and "LLTP" not in body
    assert "Số tiền đã nộp: 200.000 ₫" in body
    assert "Thời điểm thu: 02/03/2026 10:00" in body  # 03:00 UTC is 10:00 in Hà Nội
    assert f"https://pay.test/receipts/{receipt.public_id}\n" in body
    assert f"https://pay.test/receipts/{receipt.public_id}.pdf" in body
    assert f"https://pay.test/receipts/verify?number={number}&amount=200000" in body
    assert "https://pay.test/account/" in body
    assert "Test Person" not in body  # no name nor ID number in a mailbox
    with committing() as session:
        assert session.scalar(select(func.count()).select_from(MailDelivery)) == 1


def test_a_citizen_who_chose_english_gets_it_in_english(committing, clock, sandbox, mail_to, citizen):
    consent(committing, citizen, language="en")
    receipt = pay(committing, clock, sandbox, citizen)
    [job] = mail_jobs(committing)
    run(committing, job.id)
    [(_, message)] = mail_to.inbox.messages
    assert message["Subject"] == f"Receipt {receipt_number(receipt)}: Judicial record certificate"
    assert "Amount paid: 200,000 ₫" in message.get_content()
    assert "Collected at: 02/03/2026 10:00" in message.get_content()


def test_no_consent_no_mail(committing, clock, sandbox, mail_to, citizen):
    pay(committing, clock, sandbox, citizen)
    assert mail_jobs(committing) == []
    assert mail_to.inbox.messages == []


def test_a_bill_never_opened_by_a_citizen_stages_nothing(committing, clock, sandbox, mail_to, citizen):
    consent(committing, citizen)
    pay(committing, clock, sandbox, None)  # not tied to the citizen: the payment path asks nothing more
    assert mail_jobs(committing) == []


def test_withdrawn_consent_stops_the_mail_even_once_staged(committing, clock, sandbox, mail_to, citizen):
    consent(committing, citizen)
    pay(committing, clock, sandbox, citizen, key="k1")
    [job] = mail_jobs(committing)
    with committing() as session, session.begin():
        assert withdraw_email_consent(session, session.get(Citizen, citizen))
    assert run(committing, job.id).status == "done"
    pay(committing, clock, sandbox, citizen, key="k2")  # after the withdrawal: nothing staged at all
    assert len(mail_jobs(committing)) == 1
    assert mail_to.inbox.messages == []


def test_the_relay_down_means_a_retry_with_the_error_logged_then_one_delivery(committing, clock, sandbox, mail_to,
                                                                             citizen, caplog):
    consent(committing, citizen)
    pay(committing, clock, sandbox, citizen)
    [job] = mail_jobs(committing)
    mail_to.stop()
    with caplog.at_level(logging.WARNING, logger="mailing.jobs"):
        outcome = run(committing, job.id)
    assert outcome.status == "retry"
    [warning] = [r for r in caplog.records if r.name == "mailing.jobs"]
    assert warning.getMessage() == "mail not sent; the job will retry"
    assert "ConnectionRefusedError" in warning.error and ADDRESS not in warning.error
    with committing() as session:
        stored = session.get(OutboxJob, job.id)
        assert stored.status == "pending" and "ConnectionRefusedError" in stored.last_error
        assert ADDRESS not in stored.last_error
    mail_to.start()
    assert run(committing, job.id, clock=FixedClock(outcome.retry_at)).status == "done"
    assert len(mail_to.inbox.messages) == 1


def test_the_due_date_is_no_part_of_a_receipt(committing, clock, sandbox, mail_to, citizen):
    consent(committing, citizen)
    pay(committing, clock, sandbox, citizen, due_date=date(2026, 3, 5))
    [job] = mail_jobs(committing)
    run(committing, job.id)
    assert "05/03/2026" not in mail_to.inbox.messages[0][1].get_content()
