"""What a citizen needs to pay a VietQR attempt: the QR payload, and the same as text to copy or print.

The money goes straight to the collecting agency's receiving account (set in the back office,
``agencies.accounts``), with the payment's code as the transfer's purpose; the bank feed then reports
the transfer (``payments.bank_intake``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.accounts import receiving_account
from core.money import Money
from payments.errors import NoReceivingAccount, PaymentNotFound
from payments.models.billing import Bill, Payment
from payments.providers.vietqr import NAME as VIETQR
from payments.vietqr import Beneficiary, payment_payload


@dataclass(frozen=True)
class TransferInstructions:
    """One VietQR attempt as the citizen sees it."""

    code: str
    payload: str
    amount: Money
    bank_name: str
    bank_bin: str
    account_number: str
    holder_name: str
    expires_at: datetime
    payment_status: str
    bill_id: str
    bill_status: str
    service_code: str


def accepts_vietqr(session: Session, agency_code: str) -> bool:
    """True when ``agency_code`` has a receiving account citizens can transfer to."""
    return receiving_account(session, agency_code) is not None


def require_receiving_account(session: Session, bill: Bill, provider_name: str) -> None:
    """Refuse (``agency_has_no_receiving_account``) a VietQR attempt for a bill whose agency has no account."""
    if provider_name == VIETQR and not accepts_vietqr(session, bill.agency_code):
        raise NoReceivingAccount(f"agency {bill.agency_code} has no receiving account",
                                 details={"agency_code": bill.agency_code})


def instructions(session: Session, code: str) -> TransferInstructions:
    """The transfer that pays VietQR payment ``code``; PaymentNotFound for any other code."""
    row = session.execute(select(Payment, Bill).join(Bill, Bill.id == Payment.bill_id)
                          .where(Payment.public_id == code, Payment.provider == VIETQR)).one_or_none()
    if row is None:
        raise PaymentNotFound(f"no VietQR payment {code}")
    payment, bill = row
    account = receiving_account(session, bill.agency_code)
    if account is None:
        raise NoReceivingAccount(f"agency {bill.agency_code} has no receiving account",
                                 details={"agency_code": bill.agency_code})
    amount = Money(payment.amount, payment.currency)
    payee = Beneficiary(account.bank_bin, account.account_number, account.holder_name)
    return TransferInstructions(code=payment.public_id, payload=payment_payload(payee, amount, payment.public_id),
                                amount=amount, bank_name=account.bank_name, bank_bin=account.bank_bin,
                                account_number=account.account_number, holder_name=account.holder_name,
                                expires_at=payment.expires_at, payment_status=payment.status,
                                bill_id=bill.public_id, bill_status=bill.status, service_code=bill.service_code)
