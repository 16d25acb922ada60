"""VietQR over HTTP: the agency API's QR, the citizen's QR page, the bank feed's webhook and the test bank."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from agencies.accounts import set_receiving_account
from core.clock import SYSTEM_CLOCK
from core.money import vnd
from core.outbox import OutboxJob
from payments import dev_bank
from payments.models.bank_transfers import BankTransferRecord
from payments.models.billing import Bill, Payment
from payments.vietqr import read
from tests.citizen.agency_support import create, headers, make_client, seed_pricing
from tests.citizen.payments_support import hidden_fields
from web.runtime import DEV_BANK_ACCOUNT, dev_bank_key


@pytest.fixture()
def agency(app, db):
    """The agency API client of HN-STP, whose receiving account is the one the built-in dev-bank feed reports on."""
    seed_pricing(db)
    set_receiving_account(db, "HN-STP", bank_bin="970436", account_number=DEV_BANK_ACCOUNT,
                          holder_name="SO TU PHAP HA NOI", actor="staff:1", clock=SYSTEM_CLOCK)
    app.extensions["gateway.runtime"].register_providers()
    _, key, _ = make_client(app, db)
    return key


def _vietqr(client, key: str, bill_id: str, **params):
    return client.get(f"/api/v1/bills/{bill_id}/vietqr", query_string=params, headers=headers(key))


def _feed(client, body: dict, key: str | None = None):
    key = key or dev_bank_key(client.application.config["SECRET_KEY"])
    return client.post("/webhooks/bank/dev-bank", data=json.dumps(body), content_type="application/json",
                       headers={"Authorization": f"Apikey {key}"})


def test_the_agency_gets_a_qr_that_reads_back_as_the_bills_amount_code_and_account(client, agency):
    bill = create(client, agency).get_json()
    answer = _vietqr(client, agency, bill["id"])
    assert answer.status_code == 200, answer.get_json()
    found = answer.get_json()
    decoded = read(found["payload"])
    assert (decoded.initiation, decoded.amount, decoded.purpose) == ("12", vnd(found["amount"]), found["code"])
    assert (decoded.beneficiary.bank_bin, decoded.beneficiary.account) == ("970436", DEV_BANK_ACCOUNT)
    assert (found["amount"], found["currency"]) == (bill["amount_due"], "VND")
    # The same attempt again, not a second one; and the image of it.
    assert _vietqr(client, agency, bill["id"]).get_json()["code"] == found["code"]
    png = _vietqr(client, agency, bill["id"], format="png")
    assert png.mimetype == "image/png" and png.data.startswith(b"\x89PNG")


def test_the_qr_page_shows_the_code_and_account_and_turns_paid_when_the_bank_feed_reports(client, db, agency):
    bill = create(client, agency).get_json()
    code = _vietqr(client, agency, bill["id"]).get_json()["code"]
    page = client.get(f"/pay/vietqr/{code}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in text and code in text and DEV_BANK_ACCOUNT in text
    assert client.get(f"/pay/vietqr/{code}/status").get_json()["bill_status"] == "open"
    answer = _feed(client, {"id": 501, "gateway": "Vietcombank", "transactionDate": "2026-12-07 09:15:02",
                            "accountNumber": DEV_BANK_ACCOUNT, "content": f"MBVCB.77.{code.lower()}.CT tu NGUYEN A",
                            "transferType": "in", "transferAmount": bill["amount_due"],
                            "referenceCode": "MBVCB.77"})
    assert (answer.status_code, answer.get_json()) == (200, {"success": True})
    assert client.get(f"/pay/vietqr/{code}/status").get_json() == {
        "payment_status": "succeeded", "bill_status": "paid",
        "expires_at": client.get(f"/pay/vietqr/{code}/status").get_json()["expires_at"]}


def test_the_bank_feed_webhook_refuses_a_wrong_key_and_an_unknown_connection(client, agency):
    wrong = _feed(client, {"id": 1}, key="not-the-key")
    assert wrong.status_code == 400 and wrong.get_json()["code"] == "bank_notification_unauthenticated"
    unknown = client.post("/webhooks/bank/nobody", data="{}", content_type="application/json")
    assert unknown.status_code == 400 and unknown.get_json()["code"] == "bank_connection_unknown"


@pytest.mark.parametrize(("scenario", "outcomes", "bill_status"), [
    ("exact", ["paid"], "paid"), ("short", ["held"], "open"), ("over", ["held"], "open"),
    ("twice", ["paid"], "paid"), ("late", ["held"], "open")])
def test_the_test_bank_sends_each_scenario_through_the_feed(client, db, agency, scenario, outcomes, bill_status):
    bill = create(client, agency).get_json()
    code = _vietqr(client, agency, bill["id"]).get_json()["code"]
    page = client.get(f"/dev-bank/{code}")
    assert page.status_code == 200 and code in page.get_data(as_text=True)
    token = hidden_fields(page.get_data(as_text=True))["csrf_token"]
    sent = client.post(f"/dev-bank/{code}", data={"scenario": scenario, "csrf_token": token})
    assert sent.status_code == 303
    jobs = db.scalars(select(OutboxJob).where(OutboxJob.name == dev_bank.DELIVER_JOB)).all()
    for job in jobs:  # what the worker does with each staged notification
        dev_bank.deliver(db, job.payload)
    assert len(jobs) == (2 if scenario == "twice" else 1)
    records = db.scalars(select(BankTransferRecord).where(BankTransferRecord.payment_code == code)).all()
    assert [r.outcome for r in records] == outcomes
    assert db.scalar(select(Bill.status).where(Bill.public_id == bill["id"])) == bill_status


def test_a_bill_of_an_agency_without_a_receiving_account_offers_no_vietqr(client, db, app):
    seed_pricing(db)
    app.extensions["gateway.runtime"].register_providers()
    _, key, _ = make_client(app, db, agency_code="HN-OTHER")
    bill = create(client, key).get_json()
    answer = _vietqr(client, key, bill["id"])
    assert answer.status_code == 409 and answer.get_json()["code"] == "agency_has_no_receiving_account"
    assert db.scalar(select(Payment.id).join(Bill).where(Bill.public_id == bill["id"])) is None
