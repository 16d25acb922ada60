"""``/api/v1/parking/disputes``: an operator's system reads citizens' disputes of its sessions and decides them.

The decision goes through ``parking.disputes`` as a finance officer's does: upholding a paid charge requests
its refund through the refund path (with the approval threshold), upholding an unpaid one cancels its bill.
"""

from __future__ import annotations

from typing import Any

from citizen.api import ErrorSchema, agency_auth, api_blueprint
from citizen.api.agency_auth import current_client
from citizen.api.parking import AUTH_ERRORS, BEARER
from citizen.api.parking import _operator as calling_operator
from citizen.api.parking_dispute_schemas import (
    DisputeListArgsSchema,
    DisputeListSchema,
    DisputeSchema,
    ResolutionSchema,
)
from core.clock import SYSTEM_CLOCK
from parking import disputes
from parking.models import ParkingDispute, ParkingLot, ParkingSession
from payments.models.billing import Bill
from payments.models.refunds import Refund
from web.database import db_session
from web.payments_runtime import payment_limits

blp = api_blueprint("api_parking_disputes", __name__,
                    description="Citizens' disputes of an operator's parking sessions, and the operator's decision "
                                "(Authorization: Bearer <api key> of an operator's client, parking scope)")
agency_auth.install(blp)


@blp.route("", methods=["GET"])
@blp.arguments(DisputeListArgsSchema, location="query")
@blp.response(200, DisputeListSchema)
@blp.doc(security=BEARER, description=f"Disputes of sessions at the operator's lots, newest first. Errors: "
                                      f"{AUTH_ERRORS}, 422.")
def list_disputes(args: dict[str, Any]):
    """The operator's disputes of one status (open by default)."""
    session, operator = db_session(), calling_operator()
    rows = disputes.disputes(session, status=args["status"], operator_id=operator.id, limit=args["limit"])
    return {"items": [_body(session, *row) for row in rows]}


@blp.route("/<dispute_id>/resolution", methods=["POST"])
@blp.arguments(ResolutionSchema)
@blp.response(200, DisputeSchema, description="The dispute as decided (again: the same decision is answered as is)")
@blp.alt_response(404, schema=ErrorSchema, description="dispute_not_found")
@blp.alt_response(409, schema=ErrorSchema, description="dispute_already_resolved, payment_in_progress, "
                                                       "refund_not_allowed")
@blp.alt_response(422, schema=ErrorSchema, description="invalid_input or dispute_invalid")
@blp.doc(security=BEARER, description=f"Uphold or reject an open dispute of a session at one of the operator's "
                                      f"lots. Errors: {AUTH_ERRORS}, 404, 409, 422.")
def resolve(body: dict[str, Any], dispute_id: str):
    """Decide a dispute; the same decision sent again answers the dispute as it is."""
    session, operator = db_session(), calling_operator()
    resolution = disputes.Resolution(body["decision"], body["note"], body.get("refund_amount"))
    dispute = disputes.resolve_dispute(session, dispute_id, resolution, actor=f"client:{current_client().id}",
                                       operator_id=operator.id, clock=SYSTEM_CLOCK,
                                       approval_threshold=payment_limits().refund_approval_threshold)
    row = session.get(ParkingSession, dispute.session_id)
    return _body(session, dispute, row, session.get(ParkingLot, row.lot_id), session.get(Bill, row.bill_id))


def _body(session, dispute: ParkingDispute, row: ParkingSession, lot: ParkingLot, bill: Bill) -> dict[str, Any]:
    refund = session.get(Refund, dispute.refund_id) if dispute.refund_id else None
    return {"id": dispute.public_id, "session_id": row.public_id, "lot": lot.code, "plate": row.plate,
            "reason": dispute.reason, "statement": dispute.statement, "amount": bill.amount_due,
            "currency": bill.currency, "status": dispute.status, "opened_at": dispute.opened_at,
            "resolved_at": dispute.resolved_at, "resolved_by": dispute.resolved_by,
            "note": dispute.resolution_note, "remedy": dispute.remedy,
            "refund": {"id": refund.public_id, "amount": refund.amount, "status": refund.status} if refund else None}
