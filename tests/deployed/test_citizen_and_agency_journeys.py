"""Journeys through the deployed shape: every request may land on either gunicorn worker, and background
work (notifications, status refreshes, refunds, callbacks) runs in the separate job worker."""

from __future__ import annotations

import json
import re
import urllib.request
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from payments.agency_models import CallbackDelivery
from payments.models.billing import Bill, Payment
from payments.models.refunds import Refund
from tests.browser_fixtures import screenshot
from tests.deployed.conftest import get_concurrently, log_in_citizen, record_answers, staff_page, workers_serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DEMO_KEY = "gwk_demo_agency_key_for_local_development_only"
CHAU = ("Lê Minh Châu", "079090045678")


def _api(base_url: str, method: str, path: str, body: dict | None = None, key: str | None = None):
    headers = {"Authorization": f"Bearer {DEMO_KEY}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(base_url + path, method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _pay_by_card(page) -> None:
    page.get_by_label("Số thẻ").fill("4242 4242 4242 4242")
    page.get_by_label("Ngày hết hạn (MM/YY)").fill("12/39")
    page.get_by_label("Mã bảo mật (CVC)").fill("123")
    page.get_by_role("button", name=re.compile(r"^Thanh toán ")).click()
    page.get_by_text("Thanh toán thành công").wait_for(timeout=30_000)


def test_both_workers_serve_the_sandbox_page_and_the_citizen_pays_to_a_verified_receipt(shape, page):
    answers: list = []
    record_answers(page, answers)
    page.goto(shape.base_url + "/bills/")
    log_in_citizen(page, CHAU[0])
    page.get_by_role("link", name=re.compile("Phiếu lý lịch tư pháp số 1")).first.click()
    page.get_by_role("button", name="Thanh toán 200.000 ₫").click()
    page.wait_for_url(re.compile(r"/sandbox/pay/sbx_[0-9a-f]{24}$"))
    sandbox_url = page.url
    statuses = [status for status, _ in get_concurrently(sandbox_url)]  # the kernel hands them to both workers
    assert statuses == [200] * 24
    served_by = workers_serving(shape, sandbox_url.removeprefix(shape.base_url))
    assert len(served_by) == 2, f"the sandbox page was served by {served_by}"
    _pay_by_card(page)
    page.get_by_role("link", name="Xem biên lai").click()
    expect(page.get_by_text("Lê Minh Châu (0790******78)")).to_be_visible()
    pdf = page.request.get(shape.base_url + page.get_by_role("link", name="Tải biên lai PDF").get_attribute("href"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    page.get_by_role("link", name="Kiểm tra biên lai này").click()
    expect(page.get_by_role("heading", name="Biên lai hợp lệ")).to_be_visible()
    screenshot(page, f"deployed-receipt-verified-{shape.settings.database_url.split(':')[0]}")
    assert [a for a in answers if a[0] >= 500] == []


def _agency_bill_paid_by_card(shape, page) -> dict:
    """An agency bills Lê Minh Châu through the API (one bill for a repeated key); she pays it by card."""
    reference = f"DEPLOYED-{uuid.uuid4().hex[:8]}"
    body = {"service_code": "LLTP", "personal_id_number": CHAU[1], "agency_reference": reference,
            "return_url": shape.base_url + "/demo/agency"}
    key = str(uuid.uuid4())
    created, bill = _api(shape.base_url, "POST", "/api/v1/bills", body, key=key)
    again, same = _api(shape.base_url, "POST", "/api/v1/bills", body, key=key)
    assert (created, again) == (201, 201) and same["id"] == bill["id"]
    page.goto(bill["next_url"])
    log_in_citizen(page, CHAU[0])
    page.get_by_role("button", name=re.compile(r"^Thanh toán ")).click()
    page.wait_for_url(re.compile(r"/sandbox/pay/"))
    _pay_by_card(page)
    shape.wait_for("the bill paid", lambda s: s.scalar(
        select(Bill.status).where(Bill.public_id == bill["id"])) == "paid")
    return bill


def test_an_agency_bill_is_paid_refunded_by_the_job_worker_and_every_callback_delivered(shape, page):
    bill = _agency_bill_paid_by_card(shape, page)
    status, refund = _api(shape.base_url, "POST", f"/api/v1/bills/{bill['id']}/refunds",
                          {"amount": 50_000, "refund_amount_available": bill["amount_due"],
                           "reason": "Hồ sơ trùng"}, key=str(uuid.uuid4()))
    assert status == 202, refund  # accepted: the job worker sends it
    # The refund is sent to the provider by the job worker: it needs the same providers as the web app.
    shape.wait_for("the refund confirmed by the provider", lambda s: s.scalar(
        select(Refund.status).where(Refund.public_id == refund["id"])) == "succeeded")
    deliveries = shape.wait_for("every callback delivered", lambda s: _all_delivered(s, bill["id"]), timeout=90)
    assert len(deliveries) >= 2  # paid, then refunded


def _all_delivered(session, bill_id: str) -> list[CallbackDelivery] | None:
    rows = list(session.scalars(select(CallbackDelivery).join(Bill, CallbackDelivery.bill_id == Bill.id)
                                .where(Bill.public_id == bill_id)))
    return rows if rows and all(row.status == "delivered" for row in rows) else None


def test_a_finance_officer_refunds_a_card_payment_an_approver_approves_and_the_worker_sends_it(
        shape, page, chromium):
    bill = _agency_bill_paid_by_card(shape, page)
    with shape.session_factory() as session:
        code = session.scalar(select(Payment.public_id).join(Bill, Payment.bill_id == Bill.id).where(
            Bill.public_id == bill["id"], Payment.status == "succeeded"))
    officer_context, officer = staff_page(chromium, shape.base_url, f"/admin/finance/refunds/payments/{code}",
                                           "Ngô Thị Thu")
    officer.get_by_label(re.compile("^Số tiền hoàn")).fill("150000")
    officer.get_by_label("Lý do").fill("Công dân nộp trùng hồ sơ")
    officer.get_by_role("button", name="Gửi đề nghị hoàn tiền").click()
    officer.wait_for_url(re.compile(r"/admin/finance/refunds/[0-9a-f]{32}$"))
    expect(officer.locator("[data-refund-status]")).to_have_attribute("data-refund-status", "awaiting_approval")
    refund_path = officer.url.removeprefix(shape.base_url)
    approver_context, approver = staff_page(chromium, shape.base_url, refund_path, "Đặng Văn Phúc")
    approver.get_by_role("button", name="Phê duyệt hoàn tiền").click()
    # The approval is a form post that redirects: reloading before that navigation ends detaches the page.
    expect(approver.locator("[data-refund-status]")).not_to_have_attribute("data-refund-status", "awaiting_approval")
    approver.wait_for_load_state()
    refund_id = refund_path.rsplit("/", 1)[1]
    shape.wait_for("the approved refund confirmed by the provider", lambda s: s.scalar(
        select(Refund.status).where(Refund.public_id == refund_id)) == "succeeded")
    approver.reload()
    expect(approver.locator("[data-refund-status]")).to_have_attribute("data-refund-status", "succeeded")
    screenshot(approver, f"deployed-refund-approved-{shape.settings.database_url.split(':')[0]}")
    officer_context.close()
    approver_context.close()

