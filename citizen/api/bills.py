"""``/api/v1/bills``: agencies bill citizens, read and list their bills, cancel, see payments and receipts, refund."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from marshmallow import RAISE

from agencies.clients import return_url_allowed
from citizen.agency_vietqr import open_vietqr
from citizen.api import ErrorSchema, agency_auth, api_blueprint
from citizen.api.agency_auth import need
from citizen.api.bill_schemas import (
    BillCreateSchema,
    BillListArgsSchema,
    BillPageSchema,
    BillSchema,
    PaymentListSchema,
    ReceiptSchema,
    RefundCreateSchema,
    RefundSchema,
    VietQrSchema,
)
from citizen.qr_images import qr_png
from core.clock import SYSTEM_CLOCK
from core.errors import NotFound, ValidationFailed
from core.money import Money
from identity.personal_data import mask_personal_id
from payments import agency_bills, idempotency
from payments.agency_bills import BillFilter, BillOrder
from payments.agency_resources import bill_resource, payment_resource, receipt_resource, refund_resource
from payments.errors import RefundNotAllowed
from payments.idempotency import StoredResponse
from payments.receipts import issued_receipt
from payments.refunds import request_refund
from payments.states import PaymentStatus
from web.database import db_session, get_database
from web.identity_runtime import get_identity
from web.payments_runtime import payment_limits

blp = api_blueprint("api_bills", __name__, description="Bills an agency's system creates for citizens, and "
                    "their payments, receipts and refunds (Authorization: Bearer <api key>)")
agency_auth.install(blp)

BEARER = [{"bearerAuth": []}]
IDEMPOTENCY_HEADER = [{"in": "header", "name": "Idempotency-Key", "required": True,
                       "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,255}$"},
                       "description": "Same key and body: the stored response again (kept 24 hours)"}]
#: OpenAPI links from a created bill to the calls that exist for every bill (a receipt exists only once paid),
#: by operationId (the view's name, see OperationIdPlugin) so that they survive a change of path.
BILL_LINKS = {name: {"operationId": operation_id, "parameters": {"bill_id": "$response.body#/id"}}
              for name, operation_id in (("GetBill", "get_bill"), ("CancelBill", "cancel_bill"),
                                         ("ListPayments", "list_payments"), ("GetVietQr", "get_vietqr"))}
#: Keyed 201 as an int like @blp.response's: flask-smorest merges by key, and a "201" would be a second
#: entry that replaces the documented response (its description and schema) when the document is written.
CREATED_WITH_LINKS = {201: {"links": BILL_LINKS}}
AUTH_ERRORS = "401 api_key_invalid, 403 scope_missing, 429 rate_limited"
PAY_LINK_PATH = "/pay/"


def _bill_body(bill, link=None, *, with_next_url: bool = False) -> dict[str, Any]:
    token = agency_bills.issue_link(db_session(), bill, clock=SYSTEM_CLOCK) if with_next_url else None
    base_url = current_app.extensions["gateway.settings"].base_url
    return bill_resource(bill, return_url=link.return_url if link else None,
                         next_url=f"{base_url}{PAY_LINK_PATH}{token}" if token else None)


def _idempotency_key() -> str:
    return idempotency.check_key(request.headers.get("Idempotency-Key"))


@blp.route("", methods=["POST"])
@blp.arguments(BillCreateSchema)
@blp.response(201, BillSchema)
@blp.alt_response(409, schema=ErrorSchema,
                  description="idempotency_key_reused, idempotency_key_in_progress, agency_reference_taken")
@blp.alt_response(422, schema=ErrorSchema,
                  description="invalid_input, idempotency_key_invalid, return_url_not_allowed, no_base_fee")
@blp.doc(security=BEARER, parameters=IDEMPOTENCY_HEADER, responses=CREATED_WITH_LINKS,
         description=f"Needs the create scope and an Idempotency-Key header. Errors: {AUTH_ERRORS}, "
         "403 service_not_allowed, 404 unknown_service.")
def create_bill(data: dict[str, Any]):
    """Bill a citizen for a service; the amount and its explanation come from the subsidies engine."""
    client = need("create")
    key = _idempotency_key()
    if not return_url_allowed(client, data["return_url"]):
        raise ValidationFailed("the return_url must be https on one of this client's registered domains",
                               code="return_url_not_allowed", details={"domains": client.return_url_domains})
    session = db_session()
    payer_hash = get_identity().vault.lookup_hash(data["personal_id_number"])
    fingerprint = {**{k: v for k, v in data.items() if k != "personal_id_number"}, "payer": payer_hash}
    claim = idempotency.claim_key(session, scope=f"client:{client.id}", key=key, operation="agency_create_bill",
                                  body=fingerprint, clock=SYSTEM_CLOCK)
    if claim.response is not None:
        return claim.response.body, claim.response.status
    order = BillOrder(service_code=data["service_code"], quantity=data["quantity"], channel=data["channel"],
                      personal_id=data["personal_id_number"], payer_id_hash=payer_hash,
                      payer_masked_id=mask_personal_id(data["personal_id_number"]),
                      agency_reference=data["agency_reference"], description=data["description"],
                      return_url=data["return_url"])
    bill = agency_bills.create_agency_bill(session, client, order, clock=SYSTEM_CLOCK)
    _, link = agency_bills.get_agency_bill(session, client.id, bill.public_id)
    body = BillSchema().dump(_bill_body(bill, link, with_next_url=True))
    idempotency.finish(session, claim.key_id, StoredResponse(201, body))
    return body, 201


@blp.route("", methods=["GET"])
@blp.arguments(BillListArgsSchema, location="query", unknown=RAISE)
@blp.response(200, BillPageSchema)
@blp.doc(security=BEARER,
         description=f"Needs the read scope. Errors: {AUTH_ERRORS}, 422 invalid_input, invalid_cursor.")
def list_bills(args: dict[str, Any]):
    """List this client's bills, newest first, by cursor."""
    client = need("read")
    filters = BillFilter(**{k: args.get(k) for k in ("status", "service_code", "agency_reference", "created_from",
                                                     "created_to")})
    bills, cursor = agency_bills.list_agency_bills(db_session(), client.id, filters, cursor=args.get("cursor"),
                                                   limit=args["limit"])
    return {"results": [_bill_body(bill) for bill in bills], "next_cursor": cursor}


@blp.route("/<bill_id>", methods=["GET"])
@blp.response(200, BillSchema)
@blp.doc(security=BEARER,
         description=f"Needs the read scope. A fresh one-time next_url while the bill is open. Errors: "
         f"{AUTH_ERRORS}, 404 bill_not_found.")
def get_bill(bill_id: str):
    """Read one of this client's bills."""
    client = need("read")
    bill, link = agency_bills.get_agency_bill(db_session(), client.id, bill_id)
    return _bill_body(bill, link, with_next_url="create" in client.scopes)


@blp.route("/<bill_id>/cancel", methods=["POST"])
@blp.response(200, BillSchema)
@blp.doc(security=BEARER,
         description=f"Needs the create scope. Errors: {AUTH_ERRORS}, 404 bill_not_found, 409 bill_not_payable, "
         "payment_in_progress.")
def cancel_bill(bill_id: str):
    """Cancel an unpaid bill with no payment in progress (cancelling twice is harmless)."""
    client = need("create")
    bill = agency_bills.cancel_agency_bill(db_session(), client.id, bill_id, clock=SYSTEM_CLOCK)
    _, link = agency_bills.get_agency_bill(db_session(), client.id, bill_id)
    return _bill_body(bill, link)


@blp.route("/<bill_id>/payments", methods=["GET"])
@blp.response(200, PaymentListSchema)
@blp.doc(security=BEARER, description=f"Needs the read scope. Errors: {AUTH_ERRORS}, 404 bill_not_found.")
def list_payments(bill_id: str):
    """The bill's payment attempts, oldest first."""
    client = need("read")
    bill, _ = agency_bills.get_agency_bill(db_session(), client.id, bill_id)
    return {"results": [payment_resource(p) for p in bill.payments]}


@blp.route("/<bill_id>/receipt", methods=["GET"])
@blp.response(200, ReceiptSchema)
@blp.doc(security=BEARER,
         description=f"Needs the read scope. Errors: {AUTH_ERRORS}, 404 bill_not_found, receipt_not_found.")
def get_receipt(bill_id: str):
    """The bill's valid e-receipt."""
    client = need("read")
    bill, _ = agency_bills.get_agency_bill(db_session(), client.id, bill_id)
    receipt = issued_receipt(db_session(), bill.id)
    if receipt is None:
        raise NotFound(f"bill {bill_id} has no valid receipt", code="receipt_not_found")
    return receipt_resource(receipt)


@blp.route("/<bill_id>/vietqr", methods=["GET"])
@blp.response(200, VietQrSchema)
@blp.doc(security=BEARER, description=f"Needs the create scope: opens a VietQR attempt if the bill has none open. "
         "`?format=png` answers the QR as a PNG image. Errors: "
         f"{AUTH_ERRORS}, 404 bill_not_found, 409 payment_in_progress (another method's attempt is open), "
         "bill_not_payable, agency_has_no_receiving_account.")
def get_vietqr(bill_id: str):
    """The bill's open VietQR attempt: payload, amount, currency, code and expiry."""
    client = need("create")
    bill, link = agency_bills.get_agency_bill(db_session(), client.id, bill_id)
    db_session().commit()  # the attempt is opened in phases of its own: hold no transaction open meanwhile
    found = open_vietqr(get_database().session_factory, client_id=client.id, bill=bill,
                        return_url=link.return_url or "", clock=SYSTEM_CLOCK,
                        expiry_window=payment_limits().expiry_window)
    if request.args.get("format") == "png":
        return Response(qr_png(found.payload), mimetype="image/png")
    return {"payload": found.payload, "amount": found.amount.amount, "currency": found.amount.currency,
            "code": found.code, "expires_at": found.expires_at.isoformat()}


@blp.route("/<bill_id>/refunds", methods=["POST"])
@blp.arguments(RefundCreateSchema)
@blp.response(202, RefundSchema)
@blp.doc(security=BEARER, parameters=IDEMPOTENCY_HEADER,
         description=f"Needs the refund scope and an Idempotency-Key header. Errors: {AUTH_ERRORS}, "
         "404 bill_not_found, 409 refund_not_allowed, idempotency_key_reused, 412 refund_amount_stale, "
         "422 invalid_input, idempotency_key_invalid.")
def create_refund(data: dict[str, Any], bill_id: str):
    """Refund part or all of the bill's captured payment (large refunds wait for a finance approver)."""
    client = need("refund")
    key = _idempotency_key()
    session = db_session()
    bill, _ = agency_bills.get_agency_bill(session, client.id, bill_id)
    claim = idempotency.claim_key(session, scope=f"client:{client.id}", key=key, operation="agency_refund",
                                  body={"bill": bill_id, **data}, clock=SYSTEM_CLOCK)
    if claim.response is not None:
        return claim.response.body, claim.response.status
    paid = next((p for p in bill.payments if p.status == PaymentStatus.SUCCEEDED), None)
    if paid is None:
        raise RefundNotAllowed(f"bill {bill_id} has no captured payment")
    refund = request_refund(session, paid.public_id, amount=Money(data["amount"], paid.currency),
                            expected_refundable=Money(data["refund_amount_available"], paid.currency),
                            reason=data["reason"], requested_by=f"client:{client.id}", clock=SYSTEM_CLOCK,
                            approval_threshold=payment_limits().refund_approval_threshold)
    body = RefundSchema().dump(refund_resource(refund))
    idempotency.finish(session, claim.key_id, StoredResponse(202, body))
    return body, 202
