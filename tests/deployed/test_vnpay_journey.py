"""VNPay through the deployed shape: `gateway serve` (two gunicorn workers) and a separate `gateway worker`.

The test is a citizen's browser and an agency, over HTTP only: the agency bills Lê Minh Châu through the API,
she chooses VNPay on the bill page and presses a button on the built-in VNPay simulator's page. What VNPay's
servers do then happens in the gateway's processes: the simulator's IPN is an outbox job that only the job
worker process delivers, and the return page asks VNPay (querydr) when no IPN came. The test reads the
database only to see which of the two confirmed a payment.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from sqlalchemy import select

from core.outbox import OutboxJob
from payments.dev_vnpay import DELIVER_JOB
from payments.models.billing import Payment, PaymentEvent
from tests.deployed.conftest import get_concurrently, workers_serving
from tests.deployed.forms import form_with_button, log_in_at_stand_in

pytestmark = pytest.mark.slow
DEMO_KEY = "gwk_demo_agency_key_for_local_development_only"
CHAU = ("Lê Minh Châu", "079090045678")
SIMULATOR_PAGE = "/vnpay-sim/paymentv2/vpcpay.html"


class Citizen:
    """A browser over HTTP: one cookie jar; every answer it met is kept (none may be a 5xx)."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.answers: list[tuple[int, str]] = []

    def send(self, method: str, url: str, **options) -> requests.Response:
        response = self.http.request(method, url, timeout=30, **options)
        self.answers.extend((r.status_code, r.url) for r in (*response.history, response))
        return response

    def failed(self) -> list[tuple[int, str]]:
        return [a for a in self.answers if a[0] >= 500]


def _api(base_url: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    """The demo agency's API client."""
    headers = {"Authorization": f"Bearer {DEMO_KEY}"}
    if method == "POST":
        headers["Idempotency-Key"] = str(uuid.uuid4())
    answer = requests.request(method, base_url + path, json=body, headers=headers, timeout=30)
    return answer.status_code, answer.json()


def _agency_bill(base_url: str) -> str:
    """The demo agency bills Châu for a judicial-record certificate (200,000 đ); return the bill's id."""
    status, bill = _api(base_url, "POST", "/api/v1/bills", {
        "service_code": "LLTP", "personal_id_number": CHAU[1], "agency_reference": f"VNPAY-{uuid.uuid4().hex[:8]}",
        "return_url": base_url + "/demo/agency"})
    assert status == 201, bill
    assert bill["amount_due"] == 200_000 and bill["status"] == "open"
    return bill["id"]


def _logged_in(base_url: str) -> Citizen:
    citizen = Citizen()
    assert log_in_at_stand_in(citizen.send, base_url, CHAU[0])
    return citizen


def _choose_vnpay(base_url: str, citizen: Citizen, bill_id: str) -> tuple[str, str]:
    """On the bill page choose VNPay and pay; return the signed payment URL and its ``vnp_TxnRef``."""
    page = citizen.send("GET", f"{base_url}/bills/{bill_id}")
    assert page.status_code == 200 and '<strong class="amount">200.000 ₫</strong>' in page.text
    assert 'name="provider" value="vnpay"' in page.text  # offered, with no VNPay terminal configured
    form, sent = form_with_button(page.text, "Thanh toán 200.000 ₫")
    started = citizen.send("POST", urljoin(page.url, form.action), data={**sent, "provider": "vnpay"},
                           allow_redirects=False)
    assert started.status_code == 303, started.text
    location = started.headers["Location"]
    assert location.startswith(base_url + SIMULATOR_PAGE + "?") and "vnp_SecureHash=" in location
    return location, parse_qs(urlsplit(location).query)["vnp_TxnRef"][0]


def _press(citizen: Citizen, payment_url: str, button: str) -> str:
    """Open the simulator's page and press ``button``; return where it sends the browser (not followed)."""
    page = citizen.send("GET", payment_url)
    assert page.status_code == 200 and "Trang thanh toán VNPay (mô phỏng)" in page.text
    form, sent = form_with_button(page.text, button)
    done = citizen.send("POST", urljoin(page.url, form.action), data=sent, allow_redirects=False)
    assert done.status_code == 303, done.text
    return done.headers["Location"]


def _payment(base_url: str, bill_id: str, code: str) -> dict:
    """The payment as the agency's API shows it."""
    status, payments = _api(base_url, "GET", f"/api/v1/bills/{bill_id}/payments")
    assert status == 200, payments
    return next(p for p in payments["results"] if p["id"] == code)


def _wait_for_payment(shape, bill_id: str, code: str, status: str) -> dict:
    """Poll the agency API (no provider is asked by it) until payment ``code`` is ``status``."""
    return shape.wait_for(f"payment {code} {status}", lambda _session: (
        found if (found := _payment(shape.base_url, bill_id, code))["status"] == status else None))


def _receipt(shape, citizen: Citizen, bill_id: str) -> dict:
    """The bill's receipt through the agency API, and the same receipt on the citizen's pages."""
    status, receipt = _api(shape.base_url, "GET", f"/api/v1/bills/{bill_id}/receipt")
    assert status == 200, receipt
    assert (receipt["status"], receipt["amount_paid"], receipt["method"]) == ("issued", 200_000, "vnpay")
    assert re.fullmatch(r"BLTT\S+", receipt["number"]), receipt
    bill_page = citizen.send("GET", f"{shape.base_url}/bills/{bill_id}")
    assert f"Đã nộp: biên lai {receipt['number']}" in bill_page.text
    page = citizen.send("GET", f"{shape.base_url}/receipts/{receipt['id']}")
    assert page.status_code == 200 and f"Biên lai {receipt['number']}" in page.text
    assert re.search(r"Số tiền đã nộp</dt><dd><strong>200\.000 ₫</strong>", page.text)
    return receipt


def _confirmed_by(shape, code: str) -> list[str]:
    """What moved payment ``code`` to succeeded (``ipn``, ``return_url``…), from its audit trail."""
    with shape.session_factory() as session:
        return list(session.scalars(select(PaymentEvent.cause).join(Payment, PaymentEvent.payment_id == Payment.id)
                                    .where(Payment.public_id == code, PaymentEvent.to_status == "succeeded")))


def _ipn_jobs(shape, code: str) -> list[OutboxJob]:
    """The simulator's IPN deliveries staged for payment ``code``."""
    with shape.session_factory() as session:
        return [job for job in session.scalars(select(OutboxJob).where(OutboxJob.name == DELIVER_JOB))
                if job.payload["params"]["vnp_TxnRef"] == code]


def _return_page_visits(shape, bill_id: str) -> list[dict]:
    return [r for r in shape.records("web") if r.get("logger") == "gateway.access"
            and r.get("path") == f"/bills/{bill_id}/return"]


def test_the_job_worker_delivers_vnpays_ipn_and_the_citizen_gets_the_receipt(shape):
    base_url = shape.base_url
    bill_id = _agency_bill(base_url)
    citizen = _logged_in(base_url)
    payment_url, code = _choose_vnpay(base_url, citizen, bill_id)
    # The simulator's page holds the payment: both web workers open the same transaction alike.
    pages = get_concurrently(payment_url)
    assert [status for status, _ in pages] == [200] * 24
    assert all(code in body and "200.000 ₫" in body for _, body in pages)
    assert len(workers_serving(shape, SIMULATOR_PAGE)) == 2
    return_url = _press(citizen, payment_url, "Thanh toán: thành công")
    assert return_url.startswith(f"{base_url}/bills/{bill_id}/return?") and "vnp_SecureHash=" in return_url

    # The browser has not come back yet: only the job worker's IPN delivery can confirm the payment now.
    paid = _wait_for_payment(shape, bill_id, code, "succeeded")
    assert paid["provider"] == "vnpay" and paid["failure_code"] is None
    assert _return_page_visits(shape, bill_id) == []
    assert _confirmed_by(shape, code) == ["ipn"]
    [job] = _ipn_jobs(shape, code)
    assert job.status == "done" and job.attempts == 1
    ran = [r for r in shape.records() if r.get("message") == "job done" and r.get("job_id") == job.id]
    assert [r["pid"] for r in ran] == [shape.process("worker1").popen.pid], ran  # the worker process, once
    receipt = _receipt(shape, citizen, bill_id)

    # Back on the return page: it asks VNPay, which agrees; nothing changes, the receipt is the same one.
    page = citizen.send("GET", return_url)
    assert page.status_code == 200 and "Thanh toán thành công" in page.text
    assert f'href="/receipts/{receipt["id"]}"' in page.text
    assert len(_return_page_visits(shape, bill_id)) == 1
    assert _confirmed_by(shape, code) == ["ipn"]
    assert citizen.failed() == []


def test_when_vnpays_ipn_never_arrives_the_return_pages_querydr_confirms_the_payment(shape):
    base_url = shape.base_url
    bill_id = _agency_bill(base_url)
    citizen = _logged_in(base_url)
    payment_url, code = _choose_vnpay(base_url, citizen, bill_id)
    return_url = _press(citizen, payment_url, "Thanh toán thành công nhưng IPN không đến")

    # Paid at VNPay, but no IPN: the worker has nothing to deliver and the payment waits.
    shape.wait_for_jobs()
    assert _ipn_jobs(shape, code) == []
    assert _payment(base_url, bill_id, code)["status"] == "submitted"
    bill_page = citizen.send("GET", f"{base_url}/bills/{bill_id}")
    assert "Đang có một lần thanh toán" in bill_page.text and "Đã nộp: biên lai" not in bill_page.text

    # The browser comes back: the return page asks VNPay (querydr), which says paid.
    page = citizen.send("GET", return_url)
    assert page.status_code == 200 and "Thanh toán thành công" in page.text
    assert 'http-equiv="refresh"' not in page.text  # decided: no more waiting
    paid = _payment(base_url, bill_id, code)
    assert paid["status"] == "succeeded" and paid["failure_code"] is None
    assert _confirmed_by(shape, code) == ["return_url"]
    receipt = _receipt(shape, citizen, bill_id)
    assert f'href="/receipts/{receipt["id"]}"' in page.text
    assert citizen.failed() == []
