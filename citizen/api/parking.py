"""``/api/v1/parking``: operators' systems send gate events and read their lots' sessions."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import select

from citizen.api import ErrorSchema, agency_auth, api_blueprint
from citizen.api.agency_auth import need
from citizen.api.parking_schemas import (
    GateEventSchema,
    ParkingSessionSchema,
    VehicleCountAnswerSchema,
    VehicleCountSchema,
)
from core.clock import SYSTEM_CLOCK
from identity.errors import RoleRequired
from parking.charges import VEHICLE_PAYER
from parking.counts import CountIn, take_count
from parking.errors import SessionNotFound
from parking.gate import GateEventIn, take_event
from parking.lots import operator_by_code
from parking.models import ParkingLot, ParkingOperator, ParkingSession
from payments.models.billing import Bill
from subsidies.rule_store import current_rule_set
from web.database import db_session
from web.identity_runtime import get_identity

blp = api_blueprint("api_parking", __name__,
                    description="Gate events from parking operators' systems, and the sessions they make "
                                "(Authorization: Bearer <api key> of an operator's client, parking scope)")
agency_auth.install(blp)

BEARER = [{"bearerAuth": []}]
AUTH_ERRORS = "401 api_key_invalid, 403 scope_missing or not_an_operator, 429 rate_limited"


def _operator() -> ParkingOperator:
    client = need("parking")
    operator = operator_by_code(db_session(), client.agency_code)
    if operator is None:
        raise RoleRequired(f"API client {client.name!r} is not a parking operator's", code="not_an_operator")
    return operator


@blp.route("/events", methods=["POST"])
@blp.arguments(GateEventSchema)
@blp.response(201, ParkingSessionSchema, description="The event made or changed this session")
@blp.alt_response(200, schema=ParkingSessionSchema, description="The event had been sent before: its session now")
@blp.alt_response(404, schema=ErrorSchema, description="lot_not_found")
@blp.alt_response(409, schema=ErrorSchema, description="event_id_reused")
@blp.alt_response(422, schema=ErrorSchema, description="invalid_input, parking_event_invalid, no_base_fee")
@blp.doc(security=BEARER, description=f"An entry opens a session; an exit closes and prices it. Idempotent by "
                                      f"event_id. Errors: {AUTH_ERRORS}, 404, 409, 422.")
def send_event(body: dict[str, Any]):
    """Take one gate event; answer the session it belongs to (priced once the vehicle has left)."""
    operator, session = _operator(), db_session()
    sent = GateEventIn(body["event_id"], body["lot"], body["type"], body["at"], body["vehicle"]["plate"],
                       body["vehicle"]["vehicle_class"], body["credential"]["kind"], body["credential"]["value"])
    taken = take_event(session, operator, sent, rule_set=current_rule_set(session), vault=get_identity().vault,
                       clock=SYSTEM_CLOCK)
    return session_body(session, taken.session, repeated=taken.repeated), 200 if taken.repeated else 201


@blp.route("/counts", methods=["POST"])
@blp.arguments(VehicleCountSchema)
@blp.response(201, VehicleCountAnswerSchema, description="The count was recorded")
@blp.alt_response(200, schema=VehicleCountAnswerSchema, description="The count had been sent before")
@blp.alt_response(404, schema=ErrorSchema, description="lot_not_found")
@blp.alt_response(409, schema=ErrorSchema, description="event_id_reused")
@blp.alt_response(422, schema=ErrorSchema, description="invalid_input or parking_event_invalid")
@blp.doc(security=BEARER, description=f"Vehicles counted entering a lot by its gate counter, a sensor or an "
                                      f"inspector: finance compares them with the sessions reported. Idempotent by "
                                      f"count_id. Errors: {AUTH_ERRORS}, 404, 409, 422.")
def send_count(body: dict[str, Any]):
    """Take one independent vehicle count."""
    operator = _operator()
    sent = CountIn(body["count_id"], body["lot"], body["source"], body["period_start"], body["period_end"],
                   body["vehicles"])
    count, repeated = take_count(db_session(), operator, sent, clock=SYSTEM_CLOCK)
    answer = {"count_id": count.count_id, "lot": body["lot"], "source": count.source,
              "period_start": count.period_start, "period_end": count.period_end, "vehicles": count.vehicles,
              "repeated": repeated}
    return answer, 200 if repeated else 201


@blp.route("/sessions/<session_id>", methods=["GET"])
@blp.response(200, ParkingSessionSchema)
@blp.alt_response(404, schema=ErrorSchema, description="parking_session_not_found")
@blp.doc(security=BEARER, description=f"One of the operator's sessions. Errors: {AUTH_ERRORS}, 404.")
def get_session(session_id: str):
    """A session at one of the operator's lots."""
    operator, session = _operator(), db_session()
    found = session.scalars(select(ParkingSession).join(ParkingLot, ParkingLot.id == ParkingSession.lot_id)
                            .where(ParkingSession.public_id == session_id,
                                   ParkingLot.operator_id == operator.id)).one_or_none()
    if found is None:
        raise SessionNotFound(f"no parking session {session_id} at this operator's lots")
    return session_body(session, found)


def session_body(session, row: ParkingSession, *, repeated: bool = False) -> dict[str, Any]:
    """The session as the API shows it."""
    lot = session.get(ParkingLot, row.lot_id)
    pricing = row.pricing or {}
    return {"id": row.public_id, "lot": lot.code, "plate": row.plate, "vehicle_class": row.vehicle_class,
            "status": row.status, "flags": list(row.flags), "entered_at": row.entered_at, "exited_at": row.exited_at,
            "amount": row.amount, "currency": row.currency, "covered_by": pricing.get("covered_by"),
            "segments": pricing.get("segments", []), "payment": _payment(session, row), "repeated": repeated}


def _payment(session, row: ParkingSession) -> dict[str, Any] | None:
    bill = session.get(Bill, row.bill_id) if row.bill_id is not None else None
    if bill is None or bill.status == "cancelled":
        return None
    return {"bill_id": bill.public_id, "amount_due": bill.amount_due, "currency": bill.currency,
            "status": bill.status, "pay_url": url_for("parking.ticket", session_id=row.public_id, _external=True),
            "vietqr": url_for("api_bills.get_vietqr", bill_id=bill.public_id, _external=True),
            "charged_to": "ticket" if bill.payer_id_hash.startswith(VEHICLE_PAYER) else "linked_citizen"}
