"""The agency API's view of bills, payments, refunds and receipts: one shape for responses and callbacks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from payments.models.billing import Bill, Payment
from payments.models.refunds import Refund
from payments.receipts import receipt_number


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def bill_resource(bill: Bill, *, return_url: str | None = None, next_url: str | None = None) -> dict[str, Any]:
    """A bill as agencies see it: the pinned quote with its explanation, the state and the latest attempt."""
    latest = bill.payments[-1] if bill.payments else None
    return {
        "id": bill.public_id, "status": bill.status, "service_code": bill.service_code,
        "quantity": bill.quantity, "agency_code": bill.agency_code, "agency_reference": bill.agency_reference,
        "description": bill.description, "amount_due": bill.amount_due, "base_amount": bill.base_amount,
        "currency": bill.currency, "fee_kind": bill.fee_kind,
        "subsidies": [dict(line) for line in bill.subsidy_lines], "explanation": bill.explanation,
        "rule_set_hash": bill.rule_set_hash, "payer_masked_id": bill.payer_masked_id,
        "return_url": return_url, "next_url": next_url,
        "latest_payment": payment_resource(latest) if latest else None,
        "created_at": _time(bill.created_at), "updated_at": _time(bill.updated_at), "paid_at": _time(bill.paid_at),
    }


def payment_resource(payment: Payment) -> dict[str, Any]:
    """One payment attempt: status, amount, provider, why it failed, amounts refunded."""
    return {
        "id": payment.public_id, "status": payment.status, "amount": payment.amount, "currency": payment.currency,
        "provider": payment.provider, "failure_code": payment.failure_code,
        "refunded_amount": payment.refunded_amount if payment.status == "succeeded" else 0,
        "created_at": _time(payment.created_at), "finished_at": _time(payment.finished_at),
    }


def refund_resource(refund: Refund) -> dict[str, Any]:
    """One refund: amount, status and times (the reason stays in the back office)."""
    return {
        "id": refund.public_id, "status": refund.status, "amount": refund.amount, "currency": refund.currency,
        "failure_code": refund.failure_code, "created_at": _time(refund.created_at),
        "updated_at": _time(refund.updated_at),
    }


def receipt_resource(receipt) -> dict[str, Any]:
    """A receipt's reference and amounts, without the payer's details."""
    return {
        "id": receipt.public_id, "number": receipt_number(receipt), "status": receipt.status,
        "amount_paid": receipt.amount_paid, "base_amount": receipt.base_amount, "currency": receipt.currency,
        "fee_kind": receipt.fee_kind, "method": receipt.method, "collected_at": _time(receipt.collected_at),
        "issued_at": _time(receipt.issued_at),
    }
