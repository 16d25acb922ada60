"""Factories for bills and payments with sensible defaults; override any field by keyword."""

from __future__ import annotations

import itertools
from dataclasses import replace

from core.money import vnd
from payments.bills import NewBill, Quote, SubsidyLine, create_bill
from payments.starting import PayerSession, create_payment, record_provider_session, session_request

_serial = itertools.count(1)

#: Hà Nội support for the judicial-record fee (Resolution 11/2024/NQ-HĐND), as a programme code.
HANOI_PROGRAMME = "HN-NQ11-2024"


def judicial_record_quote(*, due: int = 200_000, base: int = 200_000) -> Quote:
    """A quote for one judicial-record certificate; anything between due and base is the Hà Nội subsidy."""
    subsidies = (SubsidyLine(HANOI_PROGRAMME, vnd(base - due)),) if base > due else ()
    return Quote(amount_due=vnd(due), base_amount=vnd(base), subsidies=subsidies,
                 explanation={"fee": "LLTP", "applied": [s.programme for s in subsidies]}, rule_set_hash="r" * 64)


def new_bill(**overrides) -> NewBill:
    """A phí bill for one judicial-record certificate at the Hà Nội justice department."""
    serial = next(_serial)
    base = NewBill(payer_id_hash=f"payer-{serial}", service_code="LLTP", quantity=1,
                   quote=judicial_record_quote(), fee_kind="phi", retained_basis_points=0,
                   agency_code="HN-STP", agency_reference=f"HS-{serial:06d}")
    return replace(base, **overrides)


def make_bill(session, clock, **overrides):
    """Create and return a bill."""
    return create_bill(session, new_bill(**overrides), clock=clock)


def make_payment(session, clock, bill=None, *, provider="sandbox", **bill_overrides):
    """Create a bill (unless given) and a ``created`` payment for it."""
    bill = bill or make_bill(session, clock, **bill_overrides)
    payer = PayerSession(eid_level=2, iss="https://vneid.test", sub="citizen-1", acr="level2", auth_time=clock.now())
    return create_payment(session, bill.public_id, provider_name=provider, payer=payer,
                          return_url="https://pay.test/return", clock=clock)


def open_sandbox_payment(session, clock, sandbox, bill=None, **bill_overrides):
    """Create a payment and open its sandbox session, as ``payments.checkout`` does; return it submitted."""
    payment = make_payment(session, clock, bill, **bill_overrides)
    opened = sandbox.create_session(session_request(payment))
    return record_provider_session(session, payment.public_id, opened, clock=clock)
