"""Bills made by an agency's system through the API: priced by the subsidies engine, seen only by their client.

Design overview
---------------
* The amount is the subsidies engine's (``pricing.price`` pins and reserves it, as for every bill); the
  agency sends facts, never an amount. A retry with the same agency reference returns the same bill and
  prices nothing.
* Ownership is a row in ``agency_bills``: another client's bill is "not found", never "forbidden", so
  bill ids cannot be probed.
* ``next_url`` is a one-time link (only its SHA-256 is stored) valid for ``LINK_TTL``; a fresh one is
  issued each time the agency reads an open bill, as GOV.UK Pay does.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.models import ApiClient
from core.clock import Clock
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from payments import agency_callbacks as callbacks
from payments import pricing
from payments.agency_models import AgencyBill, BillLink
from payments.bills import NewBill, cancel_bill, create_bill
from payments.errors import BillNotFound
from payments.models.billing import Bill
from subsidies.catalogue import get_service
from subsidies.facts import QuoteRequest

LINK_TTL = timedelta(hours=1)
#: Catalogue kinds -> the bill's legal nature (a giá dịch vụ is collected like a phí).
FEE_KIND_OF = {"fee": "phi", "charge": "le_phi", "price": "phi"}


@dataclass(frozen=True)
class BillOrder:
    """What an agency asks to bill, validated at the edge."""

    service_code: str
    quantity: int
    channel: str
    personal_id: str
    payer_id_hash: str
    payer_masked_id: str
    agency_reference: str
    description: str = ""
    return_url: str | None = None


def create_agency_bill(session: Session, client: ApiClient, order: BillOrder, *, clock: Clock) -> Bill:
    """Price and create the bill for ``client`` (or return the same reference's bill on a retry)."""
    if order.service_code not in client.service_codes:
        raise PermissionDenied(f"this client may not bill service {order.service_code}", code="service_not_allowed",
                               details={"service_code": order.service_code})
    existing = _existing(session, client, order)
    if existing is not None:
        return existing
    service = get_service(session, order.service_code)
    request = QuoteRequest(service_code=order.service_code, decision_at=clock.now(), channel=order.channel,
                           quantity=order.quantity)
    quote = pricing.price(session, request, clock=clock, personal_id=order.personal_id)
    bill = create_bill(session, NewBill(
        payer_id_hash=order.payer_id_hash, service_code=order.service_code, quantity=order.quantity,
        quote=quote, fee_kind=FEE_KIND_OF.get(service.kind, "phi"),
        agency_code=client.agency_code, agency_reference=order.agency_reference, description=order.description,
        payer_masked_id=order.payer_masked_id), clock=clock)
    session.add(AgencyBill(bill_id=bill.id, client_id=client.id, return_url=order.return_url, last_sequence=0,
                           created_at=clock.now()))
    session.flush()
    callbacks.stage_event(session, bill, "bill.created", clock=clock)
    return bill


def _existing(session: Session, client: ApiClient, order: BillOrder) -> Bill | None:
    bill = session.scalars(select(Bill).where(Bill.agency_code == client.agency_code,
                                              Bill.agency_reference == order.agency_reference)).one_or_none()
    if bill is None:
        return None
    link = session.get(AgencyBill, bill.id)
    same = (bill.payer_id_hash, bill.service_code) == (order.payer_id_hash, order.service_code)
    if link is None or link.client_id != client.id or not same:
        raise Conflict(f"agency reference {order.agency_reference} is already used for another bill",
                       code="agency_reference_taken")
    return bill


def get_agency_bill(session: Session, client_id: int, bill_public_id: str) -> tuple[Bill, AgencyBill]:
    """Return the client's bill and its link row; another client's bill is not found."""
    row = session.execute(select(Bill, AgencyBill).join(AgencyBill, AgencyBill.bill_id == Bill.id)
                          .where(Bill.public_id == bill_public_id, AgencyBill.client_id == client_id)).one_or_none()
    if row is None:
        raise BillNotFound(f"no bill {bill_public_id}")
    return row[0], row[1]


def cancel_agency_bill(session: Session, client_id: int, bill_public_id: str, *, clock: Clock) -> Bill:
    """Cancel the client's open, idle bill (a second cancel returns it unchanged)."""
    bill, _ = get_agency_bill(session, client_id, bill_public_id)
    if bill.status == "cancelled":
        return bill
    bill = cancel_bill(session, bill_public_id, actor=f"api_client:{client_id}", clock=clock)
    callbacks.stage_event(session, bill, "bill.cancelled", clock=clock)
    return bill


@dataclass(frozen=True)
class BillFilter:
    """Filters of the bill list."""

    status: str | None = None
    service_code: str | None = None
    agency_reference: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def list_agency_bills(session: Session, client_id: int, filters: BillFilter, *, cursor: str | None = None,
                      limit: int = 20) -> tuple[list[Bill], str | None]:
    """Return one page of the client's bills, newest first, and the cursor of the next page (or None)."""
    query = select(Bill).join(AgencyBill, AgencyBill.bill_id == Bill.id).where(AgencyBill.client_id == client_id)
    for column, value in ((Bill.status, filters.status), (Bill.service_code, filters.service_code),
                          (Bill.agency_reference, filters.agency_reference)):
        if value is not None:
            query = query.where(column == value)
    if filters.created_from is not None:
        query = query.where(Bill.created_at >= filters.created_from)
    if filters.created_to is not None:
        query = query.where(Bill.created_at < filters.created_to)
    if cursor is not None:
        query = query.where(Bill.id < decode_cursor(cursor))
    bills = list(session.scalars(query.order_by(Bill.id.desc()).limit(limit + 1)))
    more = len(bills) > limit
    bills = bills[:limit]
    return bills, encode_cursor(bills[-1].id) if more else None


def encode_cursor(bill_id: int) -> str:
    """An opaque cursor for the page after ``bill_id``."""
    return base64.urlsafe_b64encode(f"b:{bill_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The bill id inside a cursor; ValidationFailed (invalid_cursor) for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, value = raw.split(":", 1)
        if prefix != "b" or not value.isdigit():
            raise ValueError(raw)
        return int(value)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("the cursor is not one this API gave out", code="invalid_cursor") from None


def issue_link(session: Session, bill: Bill, *, clock: Clock, ttl: timedelta = LINK_TTL) -> str | None:
    """Return a fresh one-time token for an open bill's pay link (None once it is paid or cancelled)."""
    if bill.status != "open":
        return None
    token = secrets.token_urlsafe(24)
    session.add(BillLink(bill_id=bill.id, token_hash=_token_hash(token), created_at=clock.now(),
                         expires_at=clock.now() + ttl))
    session.flush()
    return token


def use_link(session: Session, token: str, *, clock: Clock) -> Bill:
    """Spend a one-time link and return its bill; a used, expired or unknown link is refused."""
    link = session.scalars(select(BillLink).where(BillLink.token_hash == _token_hash(token))
                           .with_for_update()).one_or_none()
    if link is None or link.expires_at <= clock.now():
        raise NotFound("this payment link is unknown or has expired; ask the agency for a new one",
                       code="link_not_found")
    if link.used_at is not None:
        raise Conflict("this payment link was already used; ask the agency for a new one", code="link_used")
    link.used_at = clock.now()
    session.flush()
    return session.get(Bill, link.bill_id)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
