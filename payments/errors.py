"""Errors of the payments package: one root, ``PaymentError``, and subclasses with stable codes.

Each error also derives from the generic kind in ``core.errors`` (NotFound, Conflict, ValidationFailed)
where one fits, so ``web/errors.py`` maps it to the right HTTP status without knowing payments.
"""

from __future__ import annotations

from core.errors import Conflict, DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationFailed


class PaymentError(DomainError):
    """The root of every payments error."""

    code = "payment_error"


class LedgerError(PaymentError):
    """A posting that would break the ledger's rules; always a bug in the caller, never user input."""

    code = "ledger_error"


class LedgerUnbalanced(LedgerError):
    """A ledger transaction whose debits and credits differ, or that has fewer than two postings."""

    code = "ledger_unbalanced"


class LedgerImmutable(LedgerError):
    """An attempt to change or delete a posted ledger row; corrections are reversing entries."""

    code = "ledger_immutable"


class LedgerPeriodClosed(Conflict, LedgerError):
    """A posting dated in a day whose reconciliation was signed off; corrections go into the next open day."""

    code = "ledger_period_closed"


class InvalidPaymentTransition(InvalidTransition, PaymentError):
    """A payment status change that the transition table does not allow."""

    code = "invalid_transition"


class InvalidBillTransition(InvalidTransition, PaymentError):
    """A bill status change that the bill transition table does not allow."""

    code = "invalid_transition"


class BillNotFound(NotFound, PaymentError):
    """No bill with that id (or the caller may not see it)."""

    code = "bill_not_found"


class PaymentNotFound(NotFound, PaymentError):
    """No payment with that id (or the caller may not see it)."""

    code = "payment_not_found"


class EidLevelTooLow(PermissionDenied, PaymentError):
    """The payer's e-ID login is below the level the bill's service requires (a step-up login is needed)."""

    code = "eid_level_too_low"


class InvalidBill(ValidationFailed, PaymentError):
    """Bill data that breaks a rule: amounts that do not add up, an unknown fee kind, a bad quantity."""

    code = "invalid_bill"


class BillNotPayable(Conflict, PaymentError):
    """The bill is cancelled, already paid, or its amount is zero (it settles without a provider)."""

    code = "bill_not_payable"


class BillAlreadyPaid(BillNotPayable):
    """The bill has been paid; it can never be paid twice."""

    code = "bill_already_paid"


class PaymentInProgress(Conflict, PaymentError):
    """The bill already has a payment that has not finished; finish or expire it first."""

    code = "payment_in_progress"


class IdempotencyKeyInvalid(ValidationFailed, PaymentError):
    """An ``Idempotency-Key`` that is missing, too long or has characters outside ``[A-Za-z0-9_-]``."""

    code = "idempotency_key_invalid"


class IdempotencyKeyReused(Conflict, PaymentError):
    """The key was used before with a different request body."""

    code = "idempotency_key_reused"


class IdempotencyKeyInProgress(Conflict, PaymentError):
    """Another request with the same key is being processed right now; retry later."""

    code = "idempotency_key_in_progress"


class UnknownProvider(ValidationFailed, PaymentError):
    """No payment provider is registered under that name."""

    code = "unknown_provider"


class ProviderError(PaymentError):
    """The provider refused or failed a call in a way that a retry will not fix."""

    code = "provider_error"


class ProviderUnavailable(ProviderError):
    """The provider timed out or answered 5xx: the outcome is unknown and the call may be retried."""

    code = "provider_unavailable"


class NotificationRejected(PaymentError):
    """A provider notification whose signature, timestamp or shape cannot be trusted."""

    code = "notification_rejected"


class RefundError(PaymentError):
    """A refund that cannot be made."""

    code = "refund_error"


class RefundAmountStale(RefundError):
    """The caller's idea of the refundable amount is out of date (GOV.UK Pay answers 412)."""

    code = "refund_amount_stale"


class InvalidRefundTransition(InvalidTransition, RefundError):
    """A refund status change that the refund transition table does not allow."""

    code = "invalid_transition"


class RefundNotAllowed(Conflict, RefundError):
    """The payment cannot be refunded (not paid) or not by that much."""

    code = "refund_not_allowed"


class RefundNotFound(NotFound, RefundError):
    """No refund with that id."""

    code = "refund_not_found"


class VietQrInvalid(ValidationFailed, PaymentError):
    """A VietQR payload that cannot be built (a bank BIN, account or amount out of shape) or read back (a
    damaged field or a checksum that does not match)."""

    code = "vietqr_invalid"


class BankNotificationRejected(PaymentError):
    """A bank transfer notification that is not authenticated, not for the connection's account, or not in
    the shape of one (the ``code`` says which)."""

    code = "bank_notification_rejected"


class NoReceivingAccount(PaymentError):
    """The bill's agency has no receiving account yet (back office): it cannot be paid by VietQR."""

    code = "agency_has_no_receiving_account"
