"""VNPay over HTTP: the signed payment URL, the simulator's page, the IPN endpoint, the return and querydr.

The simulator is driven only as VNPay's servers and a payer's browser would be: its page and buttons, its
signed return link, its IPNs delivered to ``GET /webhooks/vnpay/ipn`` and its merchant API.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import func, select

from core.clock import SYSTEM_CLOCK
from core.outbox import OutboxJob
from payments import dev_vnpay, vnpay_protocol
from payments.models.billing import Bill, Payment
from payments.models.ledger import LedgerTransaction
from payments.models.receipts import Receipt
from tests.citizen.payments_support import hidden_fields, receipt_link, seed_bills
from tests.web.oidc_support import HCM, local, login
from web.runtime import SIMULATOR_TMN_CODE, vnpay_simulator_secret


@pytest.fixture()
def bill(app, db, client):
    bills = seed_bills(app, db)
    login(client, HCM)
    return bills["hcm"]


def _secret(client) -> str:
    return vnpay_simulator_secret(client.application.config["SECRET_KEY"])


def _start(client, bill) -> str:
    """Choose VNPay on the bill page; return the signed payment URL the browser is sent to."""
    fields = hidden_fields(client.get(f"/bills/{bill.public_id}").get_data(as_text=True))
    started = client.post(f"/bills/{bill.public_id}/pay", data={
        "csrf_token": fields["csrf_token"], "form_token": fields["form_token"], "provider": "vnpay"})
    assert started.status_code == 303 and "/vnpay-sim/paymentv2/vpcpay.html?" in started.location
    return started.location


def _press(client, url: str, scenario: str):
    """Open the simulator's page at ``url`` and press ``scenario``; return the redirect to the return URL."""
    page = client.get(local(url))
    assert page.status_code == 200, page.get_data(as_text=True)
    fields = hidden_fields(page.get_data(as_text=True))
    done = client.post("/vnpay-sim/paymentv2/vpcpay.html", data={
        "csrf_token": fields["csrf_token"], "txn_ref": fields["txn_ref"], "scenario": scenario})
    assert done.status_code == 303
    return done


def _deliver_ipns(db) -> list[dict]:
    """What the worker does with each staged IPN: GET it to the IPN endpoint's path."""
    jobs = db.scalars(select(OutboxJob).where(OutboxJob.name == dev_vnpay.DELIVER_JOB,
                                              OutboxJob.status == "pending")).all()
    answers = []
    for job in jobs:
        answers.append(_ipn(db, job.payload["params"]))
        job.status = "done"
    return answers


def _ipn(db, params: dict) -> dict:
    from payments.vnpay_ipn import receive_ipn

    return receive_ipn(db, params, clock=SYSTEM_CLOCK)


def _payment(db, bill) -> Payment:
    db.expire_all()
    return db.scalars(select(Payment).where(Payment.bill_id == bill.id).order_by(Payment.id.desc())).first()


def test_the_payment_url_is_signed_with_every_field_vnpay_asks_for(client, db, bill):
    url = _start(client, bill)
    params = dict(parse_qsl(urlsplit(url).query))
    assert vnpay_protocol.verify(params, _secret(client))
    payment = _payment(db, bill)
    assert params["vnp_TxnRef"] == payment.public_id and params["vnp_Amount"] == "20000000"
    assert params["vnp_TmnCode"] == SIMULATOR_TMN_CODE and params["vnp_Version"] == "2.1.0"
    assert params["vnp_CreateDate"] == vnpay_protocol.vnp_time(payment.created_at)
    assert params["vnp_ExpireDate"] == vnpay_protocol.vnp_time(payment.expires_at)
    assert params["vnp_OrderInfo"].isascii() and payment.public_id in params["vnp_OrderInfo"]
    assert params["vnp_ReturnUrl"].endswith(f"/bills/{bill.public_id}/return")
    assert payment.provider_session_id == f"{payment.public_id}:{params['vnp_CreateDate']}"


def test_paying_by_vnpay_ends_with_a_receipt_confirmed_by_the_ipn(client, db, bill):
    done = _press(client, _start(client, bill), "success")
    assert done.location.startswith("http://localhost/bills/") and "vnp_SecureHash=" in done.location
    assert _deliver_ipns(db) == [{"RspCode": "00", "Message": "Confirm Success"}]
    assert _payment(db, bill).status == "succeeded"
    page = client.get(local(done.location)).get_data(as_text=True)
    assert "Thanh toán thành công" in page
    assert "200.000 ₫" in client.get(receipt_link(page)).get_data(as_text=True)


def test_when_the_ipn_never_arrives_the_return_asks_querydr(client, db, bill):
    done = _press(client, _start(client, bill), "timeout")
    assert _deliver_ipns(db) == []
    assert _payment(db, bill).status == "submitted"
    page = client.get(local(done.location)).get_data(as_text=True)
    assert "Thanh toán thành công" in page
    payment = _payment(db, bill)
    assert payment.status == "succeeded" and payment.provider_payment_ref


def test_a_duplicated_ipn_confirms_once_and_is_answered_already_confirmed(client, db, bill):
    _press(client, _start(client, bill), "duplicate")
    answers = _deliver_ipns(db)
    assert [a["RspCode"] for a in answers] == ["00", "02", "02"]
    payment = _payment(db, bill)
    assert db.scalar(select(func.count()).select_from(Receipt).where(Receipt.bill_id == bill.id)) == 1
    assert db.scalar(select(func.count()).select_from(LedgerTransaction)
                     .where(LedgerTransaction.payment_id == payment.id)) == 1


@pytest.mark.parametrize(("scenario", "status", "failure"), [
    ("decline", "declined", "vnpay_51"), ("cancel", "declined", "vnpay_24"), ("reversed", "error", "vnpay_reversed")])
def test_a_failed_payment_leaves_the_bill_open_to_pay_again(client, db, bill, scenario, status, failure):
    done = _press(client, _start(client, bill), scenario)
    assert [a["RspCode"] for a in _deliver_ipns(db)] == ["00"]
    payment = _payment(db, bill)
    assert (payment.status, payment.failure_code) == (status, failure)
    page = client.get(local(done.location)).get_data(as_text=True)
    assert ("VNPay sẽ hoàn lại số tiền" in page) == (scenario == "reversed") and "Thử lại" in page
    assert db.scalar(select(Bill.status).where(Bill.id == bill.id)) == "open"
    _press(client, _start(client, bill), "success")
    _deliver_ipns(db)
    assert _payment(db, bill).status == "succeeded"


def _signed_ipn(client, payment: Payment, **changes) -> dict:
    params = {"vnp_Amount": str(payment.amount * 100), "vnp_BankCode": "NCB", "vnp_OrderInfo": "Le phi",
              "vnp_PayDate": "20261207100000", "vnp_ResponseCode": "00", "vnp_TmnCode": SIMULATOR_TMN_CODE,
              "vnp_TransactionNo": "14422574", "vnp_TransactionStatus": "00", "vnp_TxnRef": payment.public_id,
              **changes}
    params["vnp_SecureHash"] = vnpay_protocol.sign(params, _secret(client))
    return params


def test_the_ipn_endpoint_answers_every_code_over_http(client, db, bill):
    _start(client, bill)
    payment = _payment(db, bill)

    def get(params):
        answer = client.get("/webhooks/vnpay/ipn", query_string=params)
        assert answer.status_code == 200 and answer.mimetype == "application/json"
        return answer.get_json()["RspCode"]

    forged = {**_signed_ipn(client, payment), "vnp_Amount": "100"}
    assert get(forged) == "97"
    assert get(_signed_ipn(client, payment, vnp_TxnRef="GW0000000000")) == "01"
    assert get(_signed_ipn(client, payment, vnp_Amount="100000")) == "04"
    assert get(_signed_ipn(client, payment, vnp_Amount="1000050")) == "99"
    assert _payment(db, bill).status == "submitted"
    assert get(_signed_ipn(client, payment)) == "00"
    assert get(_signed_ipn(client, payment)) == "02"
    assert _payment(db, bill).status == "succeeded"


def test_the_simulator_refuses_a_payment_url_with_a_wrong_hash(client, db, bill):
    url = _start(client, bill).replace("vnp_Amount=20000000", "vnp_Amount=100")
    page = client.get(local(url))
    assert page.status_code == 400 and "97" in page.get_data(as_text=True)


def test_the_simulators_merchant_api_answers_querydr_over_http_signed(client, db, bill):
    _press(client, _start(client, bill), "timeout")
    payment = _payment(db, bill)
    txn_ref, create_date = payment.provider_session_id.split(":")
    message = {"vnp_RequestId": "r1", "vnp_Version": "2.1.0", "vnp_Command": "querydr",
               "vnp_TmnCode": SIMULATOR_TMN_CODE, "vnp_TxnRef": txn_ref, "vnp_TransactionDate": create_date,
               "vnp_CreateDate": "20261207100000", "vnp_IpAddr": "127.0.0.1", "vnp_OrderInfo": "Truy van"}
    message["vnp_SecureHash"] = vnpay_protocol.pipe_hash(message, vnpay_protocol.QUERYDR_REQUEST, _secret(client))
    answer = client.post("/vnpay-sim/merchant_webapi/api/transaction", data=json.dumps(message),
                         content_type="application/json").get_json()
    assert (answer["vnp_ResponseCode"], answer["vnp_TransactionStatus"], answer["vnp_Amount"]) == (
        "00", "00", "20000000")
    assert vnpay_protocol.verify_pipe(answer, vnpay_protocol.QUERYDR_RESPONSE, _secret(client))
    forged = {**message, "vnp_TxnRef": "GW0000000000"}
    refused = client.post("/vnpay-sim/merchant_webapi/api/transaction", data=json.dumps(forged),
                          content_type="application/json").get_json()
    assert refused["vnp_ResponseCode"] == "97"
