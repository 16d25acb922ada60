"""Marshmallow schemas of the agency bill API: strict input (unknown fields refused), documented output."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from payments.models.billing import BILL_STATUSES
from subsidies.vocabulary import CHANNELS


class WholeNumber(fields.Integer):
    """A JSON number with no fraction (``2`` or ``2.0``); strings and booleans are refused."""

    default_error_messages = {"invalid": "Not a valid integer."}

    def _validated(self, value):
        if isinstance(value, bool) or not isinstance(value, int | float) or (
                isinstance(value, float) and not value.is_integer()):
            raise self.make_error("invalid")
        return int(value)


#: An absolute http(s) URL; which hosts are allowed is the client's registration (checked after the schema).
URL_PATTERN = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?$"


def _no_spaces(value: str) -> None:
    # The pattern's $ also matches before a final newline; a URL must not carry any whitespace at all.
    if any(ch.isspace() for ch in value):
        raise ma.ValidationError("Not a valid http(s) URL.")


class Strict(ma.Schema):
    """Input schemas refuse fields they do not know."""

    class Meta:
        unknown = ma.RAISE


class BillCreateSchema(Strict):
    """What an agency bills: a service for a citizen, with its own reference and where to send the citizen back."""

    service_code = fields.String(required=True, validate=validate.Length(min=1, max=32),
                                 metadata={"example": "LLTP"})
    quantity = WholeNumber(load_default=1, validate=validate.Range(min=1, max=10_000))
    channel = fields.String(load_default="PORTAL", validate=validate.OneOf(CHANNELS))
    personal_id_number = fields.String(required=True, validate=validate.Regexp(
        r"^[0-9]{12}$", error="A personal identification number has exactly 12 digits."),
        metadata={"example": "001094012345", "description": "The citizen's 12-digit personal ID number"})
    agency_reference = fields.String(required=True, validate=validate.Length(min=1, max=100),
                                     metadata={"example": "HS-2026-000123", "description": "Unique per agency"})
    description = fields.String(load_default="", validate=validate.Length(max=300))
    return_url = fields.String(required=True, validate=[
        validate.Length(max=2000), validate.Regexp(URL_PATTERN, error="Not a valid http(s) URL."), _no_spaces],
        metadata={"description": "Where the citizen goes after paying; https on a registered domain",
                  "example": "https://tuphap.hanoi.gov.vn/ho-so/HS-2026-000123"})


class BillListArgsSchema(Strict):
    """Filters and the page of the bill list."""

    status = fields.String(validate=validate.OneOf(BILL_STATUSES))
    service_code = fields.String(validate=validate.Length(min=1, max=32))
    agency_reference = fields.String(validate=validate.Length(min=1, max=100))
    created_from = fields.AwareDateTime(metadata={"description": "Created at or after (ISO 8601 with offset)"})
    created_to = fields.AwareDateTime(metadata={"description": "Created before (ISO 8601 with offset)"})
    cursor = fields.String(validate=validate.Length(max=200), metadata={"description": "next_cursor of the last page"})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class RefundCreateSchema(Strict):
    """A refund of part or all of the bill's captured payment."""

    amount = WholeNumber(required=True, validate=validate.Range(min=1, max=10**15),
                            metadata={"description": "VND to refund"})
    refund_amount_available = WholeNumber(required=True, validate=validate.Range(min=0, max=10**15), metadata={
        "description": "What you believe is still refundable; a stale value gets 412 refund_amount_stale"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class PaymentSchema(ma.Schema):
    """One payment attempt of a bill."""

    id = fields.String()
    status = fields.String(metadata={"description": "created, started, submitted, unknown, succeeded, duplicate, "
                                                    "declined, cancelled, expired or error"})
    amount = fields.Integer()
    currency = fields.String()
    provider = fields.String()
    failure_code = fields.String(allow_none=True)
    refunded_amount = fields.Integer()
    created_at = fields.String(metadata={"format": "date-time"})
    finished_at = fields.String(allow_none=True, metadata={"format": "date-time"})


class BillSchema(ma.Schema):
    """A bill: the pinned price with its explanation, its state, and a one-time next_url while it is open."""

    id = fields.String()
    status = fields.String(metadata={"description": "open, paid or cancelled"})
    service_code = fields.String()
    quantity = fields.Integer()
    agency_code = fields.String()
    agency_reference = fields.String()
    description = fields.String()
    amount_due = fields.Integer(metadata={"description": "VND the citizen pays (after subsidies)"})
    base_amount = fields.Integer(metadata={"description": "VND before subsidy programmes"})
    currency = fields.String()
    fee_kind = fields.String(metadata={"description": "phi or le_phi"})
    subsidies = fields.List(fields.Dict())
    explanation = fields.Dict(metadata={"description": "The subsidies engine's explanation, with legal bases"})
    rule_set_hash = fields.String()
    payer_masked_id = fields.String(allow_none=True)
    return_url = fields.String(allow_none=True)
    next_url = fields.String(allow_none=True, metadata={
        "description": "One-time link taking the citizen to pay after e-ID login; fresh on each read"})
    latest_payment = fields.Nested(PaymentSchema, allow_none=True)
    created_at = fields.String(metadata={"format": "date-time"})
    updated_at = fields.String(metadata={"format": "date-time"})
    paid_at = fields.String(allow_none=True, metadata={"format": "date-time"})


class BillPageSchema(ma.Schema):
    """One page of bills, newest first."""

    results = fields.List(fields.Nested(BillSchema))
    next_cursor = fields.String(allow_none=True, metadata={"description": "Pass as cursor for the next page"})


class PaymentListSchema(ma.Schema):
    """A bill's payment attempts, oldest first."""

    results = fields.List(fields.Nested(PaymentSchema))


class RefundSchema(ma.Schema):
    """A refund request and where it stands."""

    id = fields.String()
    status = fields.String(metadata={"description": "awaiting_approval, submitted, succeeded, failed or rejected"})
    amount = fields.Integer()
    currency = fields.String()
    failure_code = fields.String(allow_none=True)
    created_at = fields.String(metadata={"format": "date-time"})
    updated_at = fields.String(metadata={"format": "date-time"})


class ReceiptSchema(ma.Schema):
    """The bill's valid e-receipt."""

    id = fields.String()
    number = fields.String(metadata={"example": "BLTT26-0000001"})
    status = fields.String()
    amount_paid = fields.Integer()
    base_amount = fields.Integer()
    currency = fields.String()
    fee_kind = fields.String()
    method = fields.String()
    collected_at = fields.String(metadata={"format": "date-time"})
    issued_at = fields.String(metadata={"format": "date-time"})


class VietQrSchema(ma.Schema):
    """The bill's open VietQR attempt: the payload to draw as a QR (or ``?format=png``), and what it says."""

    payload = fields.String(metadata={"description": "EMVCo merchant-presented QR payload (NAPAS 247), CRC checked"})
    amount = fields.Integer(metadata={"description": "Whole đồng"})
    currency = fields.String(metadata={"example": "VND"})
    code = fields.String(metadata={"description": "The payment code the transfer's content carries",
                                   "example": "GW7K2M9Q4XAB"})
    expires_at = fields.String(metadata={"format": "date-time"})
