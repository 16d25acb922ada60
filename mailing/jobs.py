"""E-mail jobs: the receipt, staged with it; payment reminders, staged by a periodic sweep (listed in web/jobs.py).

Design overview
---------------
* Receipt: ``payments.receipt_listeners`` calls ``stage_receipt_mail`` in the transaction that issues the
  receipt. When the bill's citizen has an e-mail consent in force, an outbox job is staged there (one per
  receipt, by dedupe key): rolled back, no mail; committed, the mail is sent. A bill is tied to its citizen
  (``bills.citizen_id``) when they open it logged in, which every payment through the pages does; a bill
  never opened by its payer has no one to e-mail, and costs the payment path no look-up.
* Reminder: ``mailing.sweep_reminders`` (hourly, daytime in Hà Nội) stages one job per open bill with a due
  date within a lead time of ``GATEWAY_REMINDER_DAYS`` whose payer (by ID hash) has consented; each bill
  is reminded once per lead time, the nearest that applies (with ``7,1``: a week before, and the day before).
* Sending is an outside call (``core.outbox.effect_job``): *prepare* checks, in a transaction, that the
  message was not sent yet and that consent is still in force (a withdrawal stops what was staged), and
  writes it; the relay is called with no transaction open; *record* notes the send (``mail_deliveries``,
  unique per message) with the job's completion. A retry after a refused send tries again (the error is
  logged, the address masked); a retry after a send finds the record and does nothing. Only a worker
  killed between the relay's answer and the record can send twice; the Message-ID is stable, so mail
  systems can drop the copy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from core.mail import Mail, Mailer, MailNotSent
from core.outbox import OutsideEffect, effect_job, job_handler, stage_job
from identity.contact import email_consent
from identity.models import Citizen, EmailConsent
from mailing.messages import receipt_mail, reminder_mail
from mailing.models import MailDelivery
from payments.jobs import stage_once
from payments.models.billing import Bill
from payments.models.receipts import Receipt
from payments.receipt_listeners import on_receipt_issued

log = logging.getLogger(__name__)

RECEIPT_JOB = "mailing.send_receipt"
REMINDER_JOB = "mailing.send_reminder"
SWEEP_JOB = "mailing.sweep_reminders"
#: Ten tries with the outbox's backoff (10 s doubling, capped at an hour): a relay down for hours is waited out.
MAX_ATTEMPTS = 10


@dataclass
class _Config:
    #: None: e-mail is off (production without a relay); nothing is staged and nothing sent.
    mailer: Mailer | None = None
    base_url: str = "http://127.0.0.1:8000"
    reminder_days: tuple[int, ...] = (3,)


_CONFIG = _Config()


def configure(mailer: Mailer | None, *, base_url: str, reminder_days: tuple[int, ...]) -> None:
    """Set how mail is sent (None: off), the links' base URL and the reminders' lead times."""
    _CONFIG.mailer, _CONFIG.base_url, _CONFIG.reminder_days = mailer, base_url.rstrip("/"), reminder_days


@on_receipt_issued
def stage_receipt_mail(session: Session, bill: Bill, receipt: Receipt, clock: Clock) -> None:
    """Stage the receipt's e-mail when the bill's citizen agreed to e-mail (in the issuing transaction)."""
    if _CONFIG.mailer is None or bill.citizen_id is None:
        return
    consent_id = session.scalar(select(EmailConsent.id).where(EmailConsent.citizen_id == bill.citizen_id,
                                                              EmailConsent.withdrawn_at.is_(None)))
    if consent_id is None:
        return
    stage_job(session, RECEIPT_JOB, {"receipt_id": receipt.public_id, "citizen_id": bill.citizen_id}, clock=clock,
              dedupe_key=f"mail:receipt:{receipt.public_id}")


@dataclass(frozen=True)
class _Plan:
    """One message, prepared: what to send, and what to record once it is sent."""

    kind: str
    reference: str
    citizen_id: int
    consent_id: int
    mail: Mail


def _already_sent(session: Session, kind: str, reference: str) -> bool:
    return session.scalar(select(MailDelivery.id).where(MailDelivery.kind == kind,
                                                        MailDelivery.reference == reference)) is not None


def _prepare_receipt(session: Session, payload: dict[str, Any]) -> _Plan | None:
    reference, citizen_id = payload["receipt_id"], payload["citizen_id"]
    if _CONFIG.mailer is None or _already_sent(session, "receipt", reference):
        return None
    consent = email_consent(session, citizen_id)
    receipt = session.scalars(select(Receipt).where(Receipt.public_id == reference)).one_or_none()
    if consent is None or receipt is None:  # withdrawn since: nothing is sent
        return None
    mail = receipt_mail(session, receipt, to=consent.address, language=consent.language, base_url=_CONFIG.base_url)
    return _Plan("receipt", reference, citizen_id, consent.id, mail)


def _prepare_reminder(session: Session, payload: dict[str, Any]) -> _Plan | None:
    bill_id, lead_days, citizen_id = payload["bill_id"], payload["lead_days"], payload["citizen_id"]
    reference = f"{bill_id}:{lead_days}"
    if _CONFIG.mailer is None or _already_sent(session, "reminder", reference):
        return None
    bill = session.scalars(select(Bill).where(Bill.public_id == bill_id)).one_or_none()
    consent = email_consent(session, citizen_id)
    if bill is None or bill.status != "open" or consent is None:  # paid, cancelled or withdrawn since
        return None
    mail = reminder_mail(session, bill, to=consent.address, language=consent.language, base_url=_CONFIG.base_url,
                         lead_days=lead_days)
    return _Plan("reminder", reference, citizen_id, consent.id, mail)


def _send(plan: _Plan) -> None:
    mailer = _CONFIG.mailer
    if mailer is None:
        raise MailNotSent("e-mail was switched off after the job was prepared")
    try:
        mailer.send(plan.mail)
    except MailNotSent as exc:
        # The relay's answer, addresses masked (core.mail); the job is retried with backoff.
        log.warning("mail not sent; the job will retry", extra={
            "mail_kind": plan.kind, "mail_reference": plan.reference, "error": str(exc)})
        raise
    log.info("mail sent", extra={"mail_kind": plan.kind, "mail_reference": plan.reference})


def _record(session: Session, plan: _Plan, _result: Any) -> None:
    session.add(MailDelivery(kind=plan.kind, reference=plan.reference, citizen_id=plan.citizen_id,
                             consent_id=plan.consent_id, sent_at=SYSTEM_CLOCK.now()))
    session.flush()


SEND_RECEIPT = effect_job(RECEIPT_JOB, OutsideEffect(_prepare_receipt, _send, _record), max_attempts=MAX_ATTEMPTS)
SEND_REMINDER = effect_job(REMINDER_JOB, OutsideEffect(_prepare_reminder, _send, _record), max_attempts=MAX_ATTEMPTS)


@job_handler(SWEEP_JOB, max_attempts=3)
def sweep_reminders(session: Session, payload: dict[str, Any]) -> None:
    """Stage a reminder for every consenting payer's open bill that is due within a lead time."""
    stage_reminders(session, clock=SYSTEM_CLOCK)


def stage_reminders(session: Session, *, clock: Clock) -> int:
    """Stage the reminders due now (once per bill and lead time); return how many were staged."""
    days = _CONFIG.reminder_days
    if _CONFIG.mailer is None or not days:
        return 0
    today = clock.today_in_vietnam()
    rows = session.execute(
        select(Bill.public_id, Bill.due_date, EmailConsent.citizen_id)
        .join(Citizen, Citizen.personal_id_hash == Bill.payer_id_hash)
        .join(EmailConsent, (EmailConsent.citizen_id == Citizen.id) & EmailConsent.withdrawn_at.is_(None))
        .where(Bill.status == "open", Bill.due_date.is_not(None), Bill.due_date >= today,
               Bill.due_date <= today + timedelta(days=max(days)))
        .order_by(Bill.id, EmailConsent.id)).all()
    staged, seen = 0, set()
    for bill_id, due_date, citizen_id in rows:
        if bill_id in seen:  # one payer with two e-ID accounts: one reminder, to the first consent
            continue
        seen.add(bill_id)
        lead = min(d for d in days if (due_date - today).days <= d)
        if _already_sent(session, "reminder", f"{bill_id}:{lead}"):  # its job may be purged by now
            continue
        payload = {"bill_id": bill_id, "lead_days": lead, "citizen_id": citizen_id}
        staged += stage_once(session, REMINDER_JOB, payload, dedupe_key=f"mail:reminder:{bill_id}:{lead}")
    return staged
