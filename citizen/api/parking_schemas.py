"""Marshmallow schemas of the parking API: a gate event in, a priced session out."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from parking.models import COUNT_SOURCES, CREDENTIAL_KINDS, EVENT_TYPES
from subsidies.vocabulary import VEHICLE_CLASSES


class VehicleSchema(Schema):
    """The vehicle as the gate saw it."""

    plate = fields.String(required=True, validate=validate.Length(min=4, max=20),
                          metadata={"description": "As read or typed, e.g. 29A-123.45 (normalised to 29A12345)"})
    vehicle_class = fields.String(required=True, data_key="class", validate=validate.OneOf(VEHICLE_CLASSES))


class CredentialSchema(Schema):
    """What identified the vehicle at the gate."""

    kind = fields.String(required=True, validate=validate.OneOf(CREDENTIAL_KINDS))
    value = fields.String(required=True, validate=validate.Length(min=1, max=100),
                          metadata={"description": "The RFID tag, the ticket's QR or the plate read"})


class GateEventSchema(Schema):
    """One gate event from an operator's system."""

    event_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.:-]{1,100}$"),
                             metadata={"description": "Unique per operator: a retry sends the same event again"})
    lot = fields.String(required=True, validate=validate.Length(min=1, max=50), metadata={"example": "HK-HANG-KHAY"})
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    at = fields.AwareDateTime(required=True, metadata={"description": "When the gate saw it (ISO 8601 with offset)"})
    vehicle = fields.Nested(VehicleSchema, required=True)
    credential = fields.Nested(CredentialSchema, required=True)


class SegmentSchema(Schema):
    """A part of the stay priced under one set of rules."""

    start = fields.String(metadata={"description": "ISO 8601 with offset"})
    end = fields.String(metadata={"description": "ISO 8601 with offset"})
    unit = fields.String(metadata={"description": "turn or hour"})
    band = fields.String(allow_none=True, metadata={"description": "DAY, NIGHT or DAY_NIGHT for a turn"})
    first_hour = fields.Integer(allow_none=True)
    last_hour = fields.Integer(allow_none=True)
    amount = fields.Integer(metadata={"description": "Whole đồng"})
    applied = fields.List(fields.String(), metadata={"description": "Rules applied, RULE@version"})


class SessionPaymentSchema(Schema):
    """How the driver pays a closed session's charge."""

    bill_id = fields.String(metadata={"description": "The bill, as GET /api/v1/bills/{bill_id} knows it"})
    amount_due = fields.Integer(metadata={"description": "Whole đồng"})
    currency = fields.String()
    status = fields.String(metadata={"description": "open, paid or cancelled"})
    pay_url = fields.String(metadata={"description": "The ticket: print it as a QR at the gate; the driver opens it, "
                                                     "logs in with VNeID and pays (the bill becomes theirs)"})
    vietqr = fields.String(metadata={"description": "GET it (bills scope) for a VietQR bank-transfer payload to show "
                                                    "at the gate"})
    charged_to = fields.String(metadata={"description": "linked_citizen (the plate's owner was billed) or ticket"})


class ParkingSessionSchema(Schema):
    """A session: the stay, what is odd about it, and its price once the vehicle has left."""

    id = fields.String()
    lot = fields.String()
    plate = fields.String()
    vehicle_class = fields.String()
    status = fields.String(metadata={"description": "open, closed or superseded"})
    flags = fields.List(fields.String(), metadata={
        "description": "exit_without_entry, entry_without_exit, clock_skew, charge_changed_after_payment"})
    entered_at = fields.AwareDateTime(allow_none=True)
    exited_at = fields.AwareDateTime(allow_none=True)
    amount = fields.Integer(allow_none=True, metadata={"description": "Whole đồng, once closed"})
    currency = fields.String()
    covered_by = fields.String(allow_none=True, metadata={"description": "grace, or the right that covered it"})
    segments = fields.List(fields.Nested(SegmentSchema))
    payment = fields.Nested(SessionPaymentSchema, allow_none=True, metadata={
        "description": "The charge to pay, once closed with something to pay; null otherwise"})
    repeated = fields.Boolean(metadata={"description": "True when this event had been sent before"})


class VehicleCountSchema(Schema):
    """Vehicles counted entering a lot over a period by a gate counter, a sensor or an inspector."""

    count_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.:-]{1,100}$"),
                             metadata={"description": "Unique per operator: a retry sends the same count again"})
    lot = fields.String(required=True, validate=validate.Length(min=1, max=50), metadata={"example": "HK-HANG-KHAY"})
    source = fields.String(required=True, validate=validate.OneOf(COUNT_SOURCES))
    period_start = fields.AwareDateTime(required=True, metadata={"description": "ISO 8601 with offset"})
    period_end = fields.AwareDateTime(required=True, metadata={"description": "ISO 8601 with offset; a day at most"})
    vehicles = fields.Integer(required=True, validate=validate.Range(min=0, max=1_000_000))


class VehicleCountAnswerSchema(Schema):
    """The count as recorded."""

    count_id = fields.String()
    lot = fields.String()
    source = fields.String()
    period_start = fields.AwareDateTime()
    period_end = fields.AwareDateTime()
    vehicles = fields.Integer()
    repeated = fields.Boolean(metadata={"description": "True when this count had been sent before"})
