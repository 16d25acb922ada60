"""Payments errors have stable codes and map to the HTTP statuses the API promises."""

from __future__ import annotations

import pytest

from payments import errors
from web.errors import status_for

STATUSES = [
    (errors.BillNotFound, 404, "bill_not_found"),
    (errors.PaymentNotFound, 404, "payment_not_found"),
    (errors.RefundNotFound, 404, "refund_not_found"),
    (errors.InvalidBill, 422, "invalid_bill"),
    (errors.IdempotencyKeyInvalid, 422, "idempotency_key_invalid"),
    (errors.UnknownProvider, 422, "unknown_provider"),
    (errors.BillNotPayable, 409, "bill_not_payable"),
    (errors.BillAlreadyPaid, 409, "bill_already_paid"),
    (errors.PaymentInProgress, 409, "payment_in_progress"),
    (errors.IdempotencyKeyReused, 409, "idempotency_key_reused"),
    (errors.IdempotencyKeyInProgress, 409, "idempotency_key_in_progress"),
    (errors.InvalidPaymentTransition, 409, "invalid_transition"),
    (errors.RefundNotAllowed, 409, "refund_not_allowed"),
    (errors.RefundAmountStale, 412, "refund_amount_stale"),
    (errors.NotificationRejected, 400, "notification_rejected"),
    (errors.ProviderError, 502, "provider_error"),
    (errors.ProviderUnavailable, 503, "provider_unavailable"),
    (errors.LedgerUnbalanced, 500, "ledger_unbalanced"),
    (errors.LedgerImmutable, 500, "ledger_immutable"),
    (errors.LedgerPeriodClosed, 409, "ledger_period_closed"),
]


@pytest.mark.parametrize("error, status, code", STATUSES, ids=lambda value: getattr(value, "__name__", str(value)))
def test_each_error_has_its_status_and_code(error, status, code):
    raised = error("context")
    assert (status_for(raised), raised.code) == (status, code)
    assert isinstance(raised, errors.PaymentError)
