"""Schemas of the operators' dispute API: what citizens disputed, and the operator's decision."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from parking.models import DISPUTE_REASONS, DISPUTE_STATUSES


class DisputeListArgsSchema(Schema):
    """Which disputes to list."""

    status = fields.String(load_default="open", validate=validate.OneOf(DISPUTE_STATUSES),
                           metadata={"description": "open (default), upheld or rejected"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class ResolutionSchema(Schema):
    """The operator's decision on a dispute."""

    decision = fields.String(required=True, validate=validate.OneOf(("uphold", "reject")),
                             metadata={"description": "uphold: the citizen is right (an unpaid charge is cancelled, a "
                                                      "paid one refunded); reject: the charge stands"})
    note = fields.String(required=True, validate=validate.Length(min=1, max=1000),
                         metadata={"description": "The answer the citizen reads (Vietnamese)"})
    refund_amount = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1),
                                   metadata={"description": "Whole đồng to refund of a paid charge; omitted: all of "
                                                            "it. Refused for an unpaid charge."})


class DisputeSchema(Schema):
    """A citizen's dispute of one of the operator's sessions."""

    id = fields.String()
    session_id = fields.String(metadata={"description": "GET /api/v1/parking/sessions/{session_id}"})
    lot = fields.String()
    plate = fields.String()
    reason = fields.String(metadata={"description": ", ".join(DISPUTE_REASONS)})
    statement = fields.String(metadata={"description": "What the citizen wrote"})
    amount = fields.Integer(metadata={"description": "The charge disputed, whole đồng"})
    currency = fields.String()
    status = fields.String(metadata={"description": ", ".join(DISPUTE_STATUSES)})
    opened_at = fields.AwareDateTime()
    resolved_at = fields.AwareDateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True, metadata={"description": "client:<id> (an operator's system) or "
                                                                          "staff:<id> (a city finance officer)"})
    note = fields.String(allow_none=True)
    remedy = fields.String(allow_none=True, metadata={"description": "refund, bill_cancelled or none"})
    refund = fields.Dict(allow_none=True, metadata={"description": "The refund made: id, amount, status"})


class DisputeListSchema(Schema):
    """Disputes, newest first."""

    items = fields.List(fields.Nested(DisputeSchema))
