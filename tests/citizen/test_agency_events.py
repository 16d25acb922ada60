"""Every state change of an API-made bill becomes a callback, staged in the same transaction, numbered per bill."""

from __future__ import annotations

from sqlalchemy import select

from agencies.clients import authenticate
from core.clock import SYSTEM_CLOCK
from core.settings import Settings, SettingsError
from payments.agency_models import CallbackDelivery
from payments.models.billing import Bill
from payments.notifications import check_on_return
from payments.refunds import send_refund
from tests.citizen.agency_support import create, headers, make_client, seed_pricing
from tests.payments.factories import open_sandbox_payment
from web.agency_runtime import keyring_for, seed_demo_agency


def test_a_paid_then_refunded_bill_tells_its_client_each_step_in_order(app, client, db, registered_sandbox):
    seed_pricing(db)
    _, key, _ = make_client(app, db)
    bill_id = create(client, key).get_json()["id"]
    bill = db.scalars(select(Bill).where(Bill.public_id == bill_id)).one()
    sandbox = registered_sandbox
    payment = open_sandbox_payment(db, SYSTEM_CLOCK, sandbox, bill)
    sandbox.pay(payment.provider_session_id, "4242424242424242")
    check_on_return(db, payment.public_id, clock=SYSTEM_CLOCK)
    db.commit()
    refund = client.post(f"/api/v1/bills/{bill_id}/refunds", headers=headers(key, "refund-1"),
                         json={"amount": 1000, "refund_amount_available": payment.amount, "reason": "trả lại"})
    assert refund.status_code == 202, refund.get_json()
    send_refund(db, refund.get_json()["id"], clock=SYSTEM_CLOCK)
    db.commit()
    events = db.execute(select(CallbackDelivery.sequence, CallbackDelivery.event_type)
                        .where(CallbackDelivery.bill_id == bill.id).order_by(CallbackDelivery.sequence)).all()
    assert [s for s, _ in events] == list(range(1, len(events) + 1))
    kinds = [t for _, t in events]
    assert kinds[:2] == ["bill.created", "payment.started"]
    assert {"payment.succeeded", "receipt.issued", "payment.refunded"} <= set(kinds)
    assert kinds.index("payment.succeeded") < kinds.index("payment.refunded")


def test_production_refuses_the_demo_agency_key(tmp_path):
    try:
        Settings.from_env({}, env="production", secret_key="k" * 40, base_url="https://pay.hanoi.gov.vn",
                          database_url="postgresql://db/gw", queue_url="redis://cache:6379/0",
                          instance_path=str(tmp_path), demo_agency_key="gwk_demo_agency_key_for_local_development_only")
    except SettingsError as error:
        assert error.variable == "GATEWAY_DEMO_AGENCY_KEY"
    else:
        raise AssertionError("production started with the demo agency key")


def test_the_demo_agency_is_seeded_once_with_its_documented_key(app, db):
    settings = app.extensions["gateway.settings"]
    assert settings.demo_agency_key
    assert seed_demo_agency(db, settings) == 1
    assert seed_demo_agency(db, settings) == 0
    demo = authenticate(db, settings.demo_agency_key, keyring=keyring_for(settings), clock=SYSTEM_CLOCK)
    assert demo.agency_code == "DEMO-STP" and "create" in demo.scopes
