"""Journeys through the deployed shape: the level-2 Hà Nội citizen at 0 đ, step-up from level 1, a
reconciliation run done by the job worker, and a policy change from draft to published by two people.

Every request may land on either gunicorn worker; the pages that carry the journey's state are also fetched
concurrently (with the browser's session) so that both workers must answer them alike.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from core.clock import SYSTEM_CLOCK
from core.outbox import OutboxJob
from payments.models.billing import Bill
from payments.reconciliation.jobs import RUN_JOB
from payments.reconciliation.runs import ReconResult, ReconRun
from subsidies.budgets import Fund, FundReservation
from subsidies.quotes import Quote
from tests.browser.test_policy_flow import TITLE_VI, fill_draft
from tests.browser_fixtures import screenshot
from tests.deployed.conftest import (
    browser_cookies,
    get_concurrently,
    log_in_citizen,
    record_answers,
    staff_page,
    workers_serving,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
FIXTURES = Path(__file__).parents[1] / "payments" / "reconciliation" / "fixtures"
#: The bank statement the reconciliation tests read: three transfers with our codes and a bank fee, 1-2 Dec 2026.
STATEMENT = FIXTURES / "same-day.vn-debit-credit.csv"
HANOI_SUPPORT = "Hà Nội hỗ trợ phí lý lịch tư pháp khi nộp qua VNeID (gia hạn 2025)"


def _backend(shape) -> str:
    return shape.settings.database_url.split(":")[0].split("+")[0]


def _refused(answers: list) -> list:
    """The browser's requests that did not succeed (Chromium's own favicon request aside)."""
    return [a for a in answers if a[0] >= 400 and not a[1].endswith("/favicon.ico")]


def _hold_back_after_consent(route) -> None:
    """Send the consent form, but keep the browser on a blank page instead of following its redirect."""
    if route.request.method != "POST":
        route.continue_()
        return
    answer = route.fetch(max_redirects=0)
    assert answer.status == 303, answer.status
    route.fulfill(status=200, content_type="text/plain", body="held back")


def _demo_bill(shape, reference: str) -> str:
    with shape.session_factory() as session:
        return session.scalar(select(Bill.public_id).where(Bill.agency_reference == reference))


def test_the_level_two_hanoi_citizen_logs_in_sees_his_fee_fall_to_zero_with_its_legal_basis_and_gets_a_receipt(
        shape, page):
    answers: list = []
    record_answers(page, answers)
    bill_path = f"/bills/{_demo_bill(shape, 'LLTP-HN-DEMO-0001')}"
    page.goto(shape.base_url + bill_path)  # the judicial-record certificate needs e-ID level 2
    expect(page.get_by_role("heading", level=1)).to_have_text("VNeID giả lập: chọn tài khoản mẫu")
    # Hold the browser back once he is in (the consent form would send it on to the bill): his first look
    # at his bills comes from both workers at once.
    page.route("**/account/consent*", _hold_back_after_consent)
    log_in_citizen(page, "Nguyễn Văn An")
    expect(page.get_by_text("held back")).to_be_visible()
    seen = [r for r in shape.records("web") if r.get("logger") == "gateway.access" and r.get("path") == bill_path]
    assert [r["status"] for r in seen] == [302]  # only the visit that sent him to log in
    pages = get_concurrently([shape.base_url + bill_path, shape.base_url + "/bills/"], count=12,
                             cookies=browser_cookies(page))
    assert [status for status, _ in pages] == [200] * 12
    assert all('<strong class="amount">0 ₫</strong>' in body and "11/2024/NQ-HĐND" in body for _, body in pages[::2])
    assert len(workers_serving(shape, bill_path) | workers_serving(shape, "/bills/")) == 2
    with shape.session_factory() as session:  # priced again once: one quote, one reservation of the support
        bill = session.scalars(select(Bill).where(Bill.agency_reference == "LLTP-HN-DEMO-0001")).one()
        assert (bill.amount_due, bill.previous_amount_due) == (0, 200_000)
        assert session.scalar(select(func.count()).select_from(Quote).where(
            Quote.citizen_ref == str(bill.citizen_id))) == 1
        assert session.scalars(select(FundReservation.amount).where(FundReservation.status == "held")).all() == [
            200_000]
        assert session.get(Fund, "HN-LLTP-2025").reserved == 200_000

    page.unroute("**/account/consent*")
    page.goto(shape.base_url + bill_path)
    # Priced by the agency without the e-ID level at 200,000 đ, priced again with the level the login proved.
    expect(page.get_by_role("heading", name="Số tiền đã thay đổi từ 200.000 ₫ thành 0 ₫")).to_be_visible()
    expect(page.locator("strong.amount")).to_have_text("0 ₫")
    support = page.locator("li.applied", has_text=HANOI_SUPPORT).last
    expect(support).to_contain_text("Căn cứ pháp lý:")
    expect(support).to_contain_text("11/2024/NQ-HĐND")
    expect(support).to_contain_text("HĐND thành phố Hà Nội")
    screenshot(page, f"deployed-level-two-zero-{_backend(shape)}")

    page.get_by_role("button", name="Xác nhận và nhận biên lai").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Đã nộp: biên lai "))).to_be_visible()
    page.get_by_role("link", name="Xem biên lai").click()
    expect(page.get_by_text("Nguyễn Văn An (0010******45)")).to_be_visible()
    expect(page.get_by_text("11/2024/NQ-HĐND").first).to_be_visible()
    page.get_by_role("link", name="Kiểm tra biên lai này").click()
    expect(page.get_by_role("heading", name="Biên lai hợp lệ")).to_be_visible()
    with shape.session_factory() as session:
        assert session.scalar(select(Bill.status).where(Bill.agency_reference == "LLTP-HN-DEMO-0001")) == "paid"
        assert session.get(Fund, "HN-LLTP-2025").committed == 200_000  # the support is spent, once
    assert _refused(answers) == []


def test_a_level_one_citizen_is_sent_through_step_up_to_level_two_and_her_bill_stays_unpaid(shape, page):
    answers: list = []
    record_answers(page, answers)
    bill_path = f"/bills/{_demo_bill(shape, 'LLTP-HN-DEMO-0002')}"
    page.goto(shape.base_url + "/bills/")
    log_in_citizen(page, "Trần Thị Bình")
    page.goto(shape.base_url + bill_path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dịch vụ này yêu cầu định danh điện tử mức 2")
    # The step-up page is the same on both workers for her level-1 session.
    pages = get_concurrently(shape.base_url + bill_path, count=8, cookies=browser_cookies(page))
    assert all(status == 200 and "Dịch vụ này yêu cầu định danh điện tử mức 2" in body for status, body in pages)
    page.get_by_role("link", name="Đăng nhập lại bằng định danh điện tử mức 2").click()
    page.wait_for_url(re.compile(r"/dev-idp/authorize\?"))
    assert "acr_values=urn%3Avn%3Avneid%3Aloa%3A2" in page.url and "prompt=login" in page.url
    log_in_citizen(page, "Trần Thị Bình")  # the e-ID still says level 1
    expect(page.get_by_role("heading", level=1)).to_have_text("Định danh điện tử của bạn đang ở mức 1")
    screenshot(page, f"deployed-step-up-level-one-{_backend(shape)}")
    page.goto(shape.base_url + bill_path)  # still level 1: the pay form is never shown
    expect(page.get_by_role("heading", level=1)).to_have_text("Dịch vụ này yêu cầu định danh điện tử mức 2")
    with shape.session_factory() as session:
        assert session.scalar(select(Bill.status).where(Bill.agency_reference == "LLTP-HN-DEMO-0002")) == "open"
    assert _refused(answers) == []


def test_a_finance_officer_imports_a_bank_statement_and_the_job_worker_runs_the_reconciliation(shape, chromium):
    context, officer = staff_page(chromium, shape.base_url, "/admin/finance/imports", "Ngô Thị Thu")
    answers: list = []
    record_answers(officer, answers)
    officer.get_by_label("Định dạng").select_option("vn_bank")
    officer.get_by_label("Tệp", exact=True).set_input_files(str(STATEMENT))
    officer.get_by_role("button", name="Nhập", exact=True).click()
    expect(officer.get_by_role("heading", name="Đã nhập", exact=True)).to_be_visible()
    officer.get_by_role("link", name="Lần đối soát", exact=True).click()
    officer.get_by_label("Số tài khoản (khi đối soát tài khoản ngân hàng)").fill("0011004123456")
    officer.get_by_label("Từ ngày (dd/mm/yyyy)").fill("01/12/2026")
    officer.get_by_label("Đến ngày (dd/mm/yyyy)").fill("02/12/2026")
    officer.get_by_role("button", name="Bắt đầu đối soát").click()
    # The run is a job: the page follows it by its meta refresh until the job worker has done it.
    officer.wait_for_url(re.compile(r"/admin/finance/runs/\d+$"), timeout=60_000)
    expect(officer.locator("[data-run-status]")).to_have_attribute("data-run-status", "completed")
    run_id = int(officer.url.rsplit("/", 1)[1])
    outcomes = officer.get_by_role("table", name="Số giao dịch và dòng sao kê theo từng kết quả")
    expect(outcomes.get_by_role("row", name=re.compile(r"^hệ thống không có\s+3$"))).to_be_visible()
    not_ours = re.compile(r"^không thuộc hệ thống \(phí ngân hàng, chuyển khoản khác\)\s+1$")
    expect(outcomes.get_by_role("row", name=not_ours)).to_be_visible()
    screenshot(officer, f"deployed-reconciliation-run-{_backend(shape)}")

    with shape.session_factory() as session:
        run = session.get(ReconRun, run_id)
        assert (run.scope, run.status, run.break_count) == ("bank:0011004123456", "completed", 3)
        outcomes_stored = sorted(session.scalars(select(ReconResult.outcome).where(ReconResult.run_id == run_id)))
        assert outcomes_stored == ["missing_internally"] * 3 + ["not_ours"]
        job = session.scalars(select(OutboxJob).where(OutboxJob.name == RUN_JOB)).one()
        assert job.status == "done"
    # Done by the separate job worker, not by a web worker.
    assert any(r.get("job_id") == job.id and r.get("message") == "job done" for r in shape.records("worker"))
    assert not any(r.get("job_id") == job.id for r in shape.records("web"))
    run_path = f"/admin/finance/runs/{run_id}"
    pages = get_concurrently(shape.base_url + run_path, count=12, cookies=browser_cookies(officer))
    assert [status for status, _ in pages] == [200] * 12 and len(workers_serving(shape, run_path)) == 2
    assert _refused(answers) == []
    context.close()


def test_a_policy_editor_drafts_a_rule_an_approver_publishes_it_and_every_worker_quotes_with_it(shape, chromium):
    today = SYSTEM_CLOCK.today_in_vietnam()
    answers: list = []
    assert all(TITLE_VI not in body for _, body in get_concurrently(shape.base_url + "/fees", count=4))
    editor_context, editor = staff_page(chromium, shape.base_url, "/admin/policy/", "Bùi Thị Lan")
    record_answers(editor, answers)
    editor.get_by_role("link", name="Bản nháp mới").click()
    fill_draft(editor, today)
    editor.get_by_role("button", name="Lưu bản nháp").click()
    expect(editor.get_by_role("heading", level=1)).to_have_text(re.compile(r"^HN-LLTP-VNEID-EXT@1"))
    editor.get_by_label("Từ ngày").fill(today.isoformat())
    editor.get_by_label("Đến hết ngày").fill(today.isoformat())
    editor.get_by_role("button", name="Chạy mô phỏng").click()
    expect(editor.get_by_label("Kết quả mô phỏng")).to_contain_text("Số báo giá thay đổi")
    editor.get_by_role("button", name="Gửi xem xét").click()
    expect(editor.get_by_role("heading", level=1)).to_contain_text("Đang xem xét")
    expect(editor.get_by_role("button", name="Phê duyệt")).to_have_count(0)  # an editor does not approve
    version_path = editor.url.removeprefix(shape.base_url).split("#")[0]

    approver_context, approver = staff_page(chromium, shape.base_url, version_path, "Trịnh Quốc Huy")
    record_answers(approver, answers)
    approver.get_by_role("button", name="Phê duyệt").click()
    approver.get_by_role("button", name="Công bố").click()
    expect(approver.get_by_role("heading", level=1)).to_contain_text("Đã công bố")
    screenshot(approver, f"deployed-policy-published-{_backend(shape)}")

    # Published in one worker's request: every worker prices with it at once.
    pages = get_concurrently(shape.base_url + "/fees", count=12)
    assert [status for status, _ in pages] == [200] * 12
    assert all(TITLE_VI in body and "99/2026/NQ-HĐND (ví dụ)" in body for _, body in pages)
    assert len(workers_serving(shape, "/fees")) == 2
    citizen = approver_context.new_page()
    citizen.goto(shape.base_url + "/fees/calculator")
    citizen.get_by_label("Dịch vụ").select_option("LLTP")
    citizen.get_by_label("Hình thức nộp hồ sơ").select_option("VNEID")
    citizen.get_by_label("Ngày nộp hồ sơ").fill(today.isoformat())
    citizen.get_by_label("Ngày sinh của bạn").fill("1990-01-01")
    citizen.get_by_label("Tỉnh, thành phố nơi thường trú").select_option("01")
    citizen.get_by_label("Mức định danh điện tử VNeID").select_option("2")
    citizen.get_by_role("button", name="Tính phí").click()
    result = citizen.locator("section.result")
    expect(result.get_by_role("heading", level=2)).to_contain_text("0 ₫")
    expect(result).to_contain_text(TITLE_VI)
    expect(result).to_contain_text("99/2026/NQ-HĐND (ví dụ)")
    assert _refused(answers) == []
    editor_context.close()
    approver_context.close()
