"""The citizen's use cases behind the bill pages: their own bills only, requote, pay, settle free, outcome.

Every function takes the logged-in citizen and finds bills by ``payer_id_hash`` (the keyed hash of their
personal ID number, the one identity keeps): someone else's bill is ``BillNotFound``, a 404, exactly
like a bill that does not exist.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock
from identity.models import Citizen, WebSession
from payments import bills as bill_service
from payments import queries
from payments.bill_states import BillStatus
from payments.checkout import start_payment
from payments.errors import BillNotFound, IdempotencyKeyInProgress, ProviderError, ProviderUnavailable
from payments.expiry import cancel_payment, mark_unknown
from payments.idempotency import StoredResponse
from payments.models.billing import LIVE_PAYMENT_STATUSES, Bill, Payment
from payments.models.receipts import Receipt
from payments.notifications import check_on_return
from payments.pricing import facts_changed, meets_eid_level, require_eid_level, requote_with_facts
from payments.providers.vietqr import NAME as VIETQR
from payments.receipts import issued_receipt
from payments.settlement import settle_free_bill
from payments.starting import PayerSession
from payments.states import PaymentStatus
from payments.vietqr_payments import accepts_vietqr
from subsidies.errors import SubsidyError
from subsidies.facts import EidFacts

log = logging.getLogger(__name__)

#: How long a double click waits for the first click's payment to be recorded before giving up.
IN_PROGRESS_WAIT = timedelta(seconds=8)


@dataclass(frozen=True)
class BillView:
    """A bill with what its page shows next to it."""

    bill: Bill
    live_payment: Payment | None
    receipt: Receipt | None
    requoted: bool = False


def eid_facts(citizen: Citizen, web_session: WebSession) -> EidFacts:
    """The facts this e-ID session asserted: its level, and the citizen's residence and birth date."""
    return EidFacts(eid_level=web_session.eid_level, residence_province_code=citizen.residence_province,
                    residence_commune_code=citizen.residence_commune, birthdate=citizen.birth_date)


def payer_session(web_session: WebSession) -> PayerSession:
    """The e-ID session a payment starts from: its level (checked), issuer, subject, acr and login time."""
    return PayerSession(eid_level=web_session.eid_level, iss=web_session.issuer, sub=web_session.subject,
                        acr=web_session.acr, auth_time=web_session.auth_time)


def owned_bill(session: Session, citizen: Citizen, bill_public_id: str) -> Bill:
    """Return the citizen's bill; anyone else's (or none) is BillNotFound."""
    bill = session.scalars(select(Bill).where(Bill.public_id == bill_public_id,
                                              Bill.payer_id_hash == citizen.personal_id_hash)).one_or_none()
    if bill is None:
        raise BillNotFound(f"no bill {bill_public_id}")
    return bill


def my_bills(session: Session, citizen: Citizen, *, status: str | None = None, since: datetime | None = None,
             until: datetime | None = None) -> list[Bill]:
    """The citizen's bills, newest first, optionally filtered."""
    return queries.bill_history(session, citizen.personal_id_hash, status=status, since=since, until=until)


def open_bill(session: Session, citizen: Citizen, facts: EidFacts, bill_public_id: str, *, clock: Clock,
              personal_id: str | None = None) -> BillView:
    """The bill page's view: requoted first when it is open, idle and was priced with other e-ID facts.

    Refused (``EidLevelTooLow``) below the service's e-ID level: the page sends the citizen to step up first."""
    bill = owned_bill(session, citizen, bill_public_id)
    require_eid_level(bill, facts.eid_level)
    _attach(bill, citizen)
    live = bill_service.live_payment(session, bill.id)
    requoted = False
    if bill.status == BillStatus.OPEN and live is None and facts_changed(bill, facts):
        requoted = _requote_or_keep(session, bill, facts, clock=clock, personal_id=personal_id)
    return BillView(bill, live, issued_receipt(session, bill.id), requoted)


def bills_after_login(session: Session, citizen: Citizen, facts: EidFacts, *, clock: Clock,
                      personal_id: str | None = None) -> list[Bill]:
    """My bills: open, idle bills priced with other e-ID facts are requoted first; newest first.

    A bill whose service needs a higher e-ID level than this login keeps its quote: it is priced for the
    citizen when they open it after stepping up."""
    for bill in queries.bill_history(session, citizen.personal_id_hash, status=BillStatus.OPEN):
        if (facts_changed(bill, facts) and meets_eid_level(bill, facts.eid_level)
                and bill_service.live_payment(session, bill.id) is None):
            _attach(bill, citizen)
            _requote_or_keep(session, bill, facts, clock=clock, personal_id=personal_id)
    return my_bills(session, citizen)


def _attach(bill: Bill, citizen: Citizen) -> None:
    """Record that the bill (found by the payer's ID hash) is this citizen's, before pricing it for them: the
    quote names whom it is for from it, whichever page prices first."""
    if bill.citizen_id is None:
        bill.citizen_id = citizen.id


def _requote_or_keep(session: Session, bill: Bill, facts: EidFacts, *, clock: Clock, personal_id: str | None) -> bool:
    """Requote in a savepoint; if the rules cannot price it now (none in force), keep the pinned quote."""
    try:
        with session.begin_nested():
            requote_with_facts(session, bill, facts, clock=clock, personal_id=personal_id)
    except SubsidyError:
        log.warning("bill kept its quote: the rules cannot price it again", extra={"bill_id": bill.id})
        return False
    return True


def settle_free(session: Session, citizen: Citizen, bill_public_id: str, *, clock: Clock) -> Bill:
    """Settle the citizen's 0 đ bill without a provider (it gets its receipt); its subsidies are spent."""
    owned_bill(session, citizen, bill_public_id)
    return settle_free_bill(session, bill_public_id, clock=clock)  # settling spends the bill's subsidies


def idempotency_key(bill_public_id: str, form_token: str) -> str:
    """The key of one submitted pay form: the same form sent twice is one payment."""
    return "pay-" + hashlib.sha256(f"{bill_public_id}:{form_token}".encode()).hexdigest()[:40]


def pay(session_factory: sessionmaker[Session], *, citizen: Citizen, web_session: WebSession,
        bill_public_id: str, provider_name: str, form_token: str, return_url: str, clock: Clock,
        expiry_window: timedelta) -> StoredResponse:
    """Start (or replay) the payment of this form; a concurrent double click waits for the first one."""
    with session_factory() as session:
        owned_bill(session, citizen, bill_public_id)
    deadline = time.monotonic() + IN_PROGRESS_WAIT.total_seconds()
    while True:
        try:
            return start_payment(session_factory, scope=f"citizen:{web_session.subject}",
                                 idempotency_key=idempotency_key(bill_public_id, form_token),
                                 bill_public_id=bill_public_id, provider_name=provider_name,
                                 payer=payer_session(web_session), return_url=return_url, clock=clock,
                                 expiry_window=expiry_window)
        except IdempotencyKeyInProgress:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def payment_methods(session: Session, bill: Bill, registered: list[str]) -> list[str]:
    """The ``registered`` providers this bill can be paid with: VietQR needs its agency's receiving account."""
    names = sorted(registered)
    if VIETQR in names and not accepts_vietqr(session, bill.agency_code):
        names.remove(VIETQR)
    return names


def latest_payment(session: Session, bill: Bill) -> Payment | None:
    """The bill's most recent payment attempt."""
    return session.scalars(select(Payment).where(Payment.bill_id == bill.id)
                           .order_by(Payment.id.desc()).limit(1)).one_or_none()


def outcome_on_return(session: Session, citizen: Citizen, bill_public_id: str, *, clock: Clock) -> BillView:
    """What the return page shows: the provider is asked (the return URL itself decides nothing)."""
    bill = owned_bill(session, citizen, bill_public_id)
    payment = latest_payment(session, bill)
    if payment is not None and payment.status in LIVE_PAYMENT_STATUSES:
        try:
            with session.begin_nested():
                check_on_return(session, payment.public_id, clock=clock)
        except ProviderUnavailable:  # not known yet: the page keeps waiting; a job resolves it
            if payment.status == PaymentStatus.SUBMITTED:
                mark_unknown(session, payment.public_id, clock=clock)
        except ProviderError as exc:  # refused for good: the page offers to cancel the attempt and start again
            log.warning("status query refused on return", extra={"provider": payment.provider, "code": exc.code,
                                                                  "error": exc.message})
        # No refresh: whatever changed them was written through these same objects, read again under lock.
    return BillView(bill, payment, issued_receipt(session, bill.id))


def abandon_attempt(session: Session, citizen: Citizen, bill_public_id: str, *, clock: Clock) -> str | None:
    """The payer gives up the attempt in progress so they can pay again; return its status afterwards.

    The provider is asked to close the session first, so money taken at the last second is never lost:
    then the attempt ends ``succeeded`` and the bill is paid. None when no attempt was in progress.
    """
    bill = owned_bill(session, citizen, bill_public_id)
    payment = latest_payment(session, bill)
    if payment is None or payment.status not in LIVE_PAYMENT_STATUSES:
        return None
    return cancel_payment(session, payment.public_id, cause="payer", clock=clock)

