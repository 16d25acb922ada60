"""Paying a bill through the sandbox page, the return page, the receipt (page, PDF, JWS) and its verification."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from payments.models.billing import Bill, Payment
from payments.models.receipts import Receipt
from payments.receipts import receipt_number
from tests.citizen.payments_support import hidden_fields, receipt_link, seed_bills
from tests.web.oidc_support import HCM, HN_LEVEL2, local, login


@pytest.fixture()
def bill(app, db, client):
    bills = seed_bills(app, db)
    login(client, HCM)
    return bills["hcm"]


def _pay_form(client, bill) -> dict[str, str]:
    fields = hidden_fields(client.get(f"/bills/{bill.public_id}").get_data(as_text=True))
    return {"csrf_token": fields["csrf_token"], "form_token": fields["form_token"], "provider": "sandbox"}


def _payments(db, bill) -> list[Payment]:
    db.expire_all()
    return list(db.scalars(select(Payment).where(Payment.bill_id == bill.id)))


def _pay_with(client, bill, card: str) -> str:
    """Start paying, type ``card`` on the sandbox page; return the return page's HTML."""
    started = client.post(f"/bills/{bill.public_id}/pay", data=_pay_form(client, bill))
    assert started.status_code == 303 and "/sandbox/pay/sbx_" in started.location
    page = client.get(local(started.location)).get_data(as_text=True)
    assert "200.000 ₫" in page and "4242 4242 4242 4242" in page
    paid = client.post(local(started.location), data={"csrf_token": hidden_fields(page)["csrf_token"],
                                                       "card_number": card, "expiry": "12/39", "cvc": "123",
                                                       "action": "pay"})
    assert paid.status_code == 303 and paid.location.endswith(f"/bills/{bill.public_id}/return")
    return client.get(local(paid.location)).get_data(as_text=True)


def test_a_double_click_starts_one_payment_with_the_login_recorded(client, db, bill):
    form = _pay_form(client, bill)
    first = client.post(f"/bills/{bill.public_id}/pay", data=form)
    second = client.post(f"/bills/{bill.public_id}/pay", data=form)
    assert first.status_code == second.status_code == 303 and first.location == second.location
    [payment] = _payments(db, bill)
    assert (payment.status, payment.amount, payment.provider) == ("submitted", 200_000, "sandbox")
    assert payment.sub == HCM and payment.iss.endswith("/dev-idp") and payment.acr and payment.auth_time


def test_an_unknown_method_or_token_is_refused(client, db, bill):
    form = _pay_form(client, bill)
    assert client.post(f"/bills/{bill.public_id}/pay", data={**form, "provider": "cash"}).status_code == 422
    assert client.post(f"/bills/{bill.public_id}/pay", data={**form, "form_token": "short"}).status_code == 422
    assert _payments(db, bill) == []


def test_paying_by_test_card_ends_with_a_receipt(client, db, bill):
    page = _pay_with(client, bill, "4242 4242 4242 4242")
    assert "Thanh toán thành công" in page
    receipt_page = client.get(receipt_link(page)).get_data(as_text=True)
    assert "200.000 ₫" in receipt_page and "Lê Minh Châu" in receipt_page and "0790******78" in receipt_page
    assert "244/2016/TT-BTC" in receipt_page
    db.expire_all()
    assert db.get(Bill, bill.id).status == "paid"


def test_a_declined_card_lets_the_citizen_try_again(client, db, bill):
    page = _pay_with(client, bill, "4000 0000 0000 0002")
    assert "Thanh toán bị từ chối" in page and "Thử lại" in page
    again = _pay_with(client, bill, "4242424242424242")
    assert "Thanh toán thành công" in again
    assert [p.status for p in _payments(db, bill)] == ["declined", "succeeded"]


def test_a_status_query_timeout_keeps_the_return_page_waiting(client, db, bill):
    page = _pay_with(client, bill, "4000 0000 0000 0341")
    assert 'http-equiv="refresh"' in page and "Đang chờ đơn vị thanh toán" in page
    assert _payments(db, bill)[0].status == "unknown"
    assert "Thanh toán thành công" in client.get(f"/bills/{bill.public_id}/return").get_data(as_text=True)


def test_the_sandbox_page_is_404_for_unknown_sessions(client, bill):
    assert client.get("/sandbox/pay/sbx_" + "0" * 24).status_code == 404
    assert client.get("/sandbox/pay/nonsense").status_code == 404


def test_the_sandbox_page_stages_a_signed_notification_for_the_webhook_path(client, db, bill):
    from core.outbox import OutboxJob
    from payments.jobs import sandbox_notify
    from payments.models.billing import ProviderEvent

    _pay_with(client, bill, "4242 4242 4242 4242")
    job = db.scalars(select(OutboxJob).where(OutboxJob.name == "payments.sandbox_notify")).one()
    assert job.payload["status"] == "succeeded"
    sandbox_notify(db, job.payload)  # what the worker does: sign it now, then receive_notification
    event = db.scalars(select(ProviderEvent).where(ProviderEvent.provider == "sandbox")).one()
    assert event.provider_session_id == _payments(db, bill)[0].provider_session_id


@pytest.fixture()
def receipt_path(client, bill) -> str:
    return receipt_link(_pay_with(client, bill, "4242 4242 4242 4242"))


def test_the_receipt_pdf_and_signed_document(client, receipt_path):
    pdf = client.get(receipt_path + ".pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    signed = client.get(receipt_path + ".jws")
    assert signed.status_code == 200 and signed.get_data(as_text=True).count(".") == 2
    verified = client.get("/receipts/verify", query_string={"token": signed.get_data(as_text=True)})
    assert "Biên lai hợp lệ" in verified.get_data(as_text=True)


def test_anyone_verifies_a_receipt_from_its_qr_link_without_login(app, client, receipt_path):
    page = client.get(receipt_path).get_data(as_text=True)
    link = "/receipts/verify?token=" + page.split("/receipts/verify?token=")[1].split('"')[0]
    result = app.test_client().get(link).get_data(as_text=True)
    assert "Biên lai hợp lệ" in result and "BLTT" in result and "200.000 ₫" in result
    assert "Lê Minh Châu" not in result  # the public page shows the masked ID only


def test_a_changed_token_does_not_verify(app, client, receipt_path):
    page = client.get(receipt_path).get_data(as_text=True)
    token = page.split("/receipts/verify?token=")[1].split('"')[0]
    forged = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    result = app.test_client().get("/receipts/verify", query_string={"token": forged}).get_data(as_text=True)
    assert "Không xác thực được biên lai này" in result


def _printed_number(db, receipt_path) -> str:
    return receipt_number(db.scalars(select(Receipt).where(Receipt.public_id == receipt_path.rsplit("/", 1)[1])).one())


def test_anyone_verifies_a_receipt_by_its_printed_number_and_amount(app, db, receipt_path):
    number = _printed_number(db, receipt_path)
    public = app.test_client()
    found = public.get("/receipts/verify", query_string={"number": number.lower(), "amount": "200.000 ₫"})
    assert found.status_code == 200 and "Biên lai hợp lệ" in found.get_data(as_text=True)
    wrong = public.get("/receipts/verify", query_string={"number": number, "amount": "199000"}).get_data(as_text=True)
    assert "Không có biên lai nào mang số và số tiền này" in wrong and "Biên lai hợp lệ" not in wrong


def test_a_number_typed_into_the_code_field_asks_for_the_amount_instead_of_crying_forgery(app, db, receipt_path):
    number = _printed_number(db, receipt_path)
    page = app.test_client().get("/receipts/verify", query_string={"token": number}).get_data(as_text=True)
    assert "Không xác thực được" not in page
    assert "Nhập số tiền đã nộp ghi trên biên lai" in page and f'value="{number}"' in page


def test_a_malformed_number_or_amount_is_explained_next_to_its_field(app):
    page = app.test_client().get("/receipts/verify", query_string={"number": "12345", "amount": "hai trăm"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'aria-invalid="true"' in text
    assert "Nhập số biên lai đúng như in" in text and "Nhập số tiền bằng chữ số" in text


def test_receipts_are_private_to_their_payer(app, client, receipt_path):
    other = app.test_client()
    login(other, HN_LEVEL2)
    for suffix in ("", ".pdf", ".jws"):
        assert other.get(receipt_path + suffix).status_code == 404


def test_a_second_form_while_a_payment_is_live_leads_back_to_that_payment(client, db, bill):
    form = _pay_form(client, bill)
    first = client.post(f"/bills/{bill.public_id}/pay", data=form)
    second = client.post(f"/bills/{bill.public_id}/pay", data={**form, "form_token": "another-tab-" + "x" * 12})
    assert second.status_code == 303 and second.location.endswith(f"/bills/{bill.public_id}")
    page = client.get(f"/bills/{bill.public_id}").get_data(as_text=True)
    assert "Đang có một lần thanh toán" in page and local(first.location) in page
    assert len(_payments(db, bill)) == 1


def test_cancelling_on_the_sandbox_page_cancels_the_attempt(client, db, bill):
    started = client.post(f"/bills/{bill.public_id}/pay", data=_pay_form(client, bill))
    page = client.get(local(started.location)).get_data(as_text=True)
    back = client.post(local(started.location), data={"csrf_token": hidden_fields(page)["csrf_token"],
                                                       "action": "cancel"})
    result = client.get(local(back.location)).get_data(as_text=True)
    assert "Lần thanh toán đã bị hủy" in result
    assert _payments(db, bill)[0].status == "cancelled"


def _sandbox_page(client, bill):
    started = client.post(f"/bills/{bill.public_id}/pay", data=_pay_form(client, bill))
    page = client.get(local(started.location)).get_data(as_text=True)
    return local(started.location), hidden_fields(page)["csrf_token"]


@pytest.mark.parametrize("card, expiry, cvc, message", [
    ("", "12/39", "123", "Vui lòng nhập số thẻ."),
    ("4242 4242 4242 4241", "12/39", "123", "Số thẻ không hợp lệ."),
    ("4242-abcd", "12/39", "123", "Số thẻ không hợp lệ."),
    ("4242 4242 4242 4242", "13/39", "123", "Nhập ngày hết hạn theo dạng MM/YY"),
    ("4242 4242 4242 4242", "01/20", "123", "Thẻ này đã hết hạn."),
    ("4242 4242 4242 4242", "12/39", "12", "Nhập mã bảo mật (CVC)"),
], ids=["empty", "luhn", "letters", "month", "expired", "cvc"])
def test_a_mistyped_card_keeps_the_payer_on_the_form_and_is_not_a_decline(client, db, bill, card, expiry, cvc,
                                                                           message):
    url, csrf = _sandbox_page(client, bill)
    answer = client.post(url, data={"csrf_token": csrf, "card_number": card, "expiry": expiry, "cvc": cvc,
                                    "action": "pay"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and message in page
    assert 'aria-invalid="true"' in page and 'name="card_number"' in page  # the form, not an error page
    assert _payments(db, bill)[0].status == "submitted"
    fixed = client.post(url, data={"csrf_token": csrf, "card_number": "4242 4242 4242 4242", "expiry": "12/39",
                                   "cvc": "123", "action": "pay"})
    assert fixed.status_code == 303


def test_a_stuck_attempt_can_be_cancelled_from_the_bill_and_paid_again(client, db, bill):
    _sandbox_page(client, bill)  # the payer left the provider's page without paying
    page = client.get(f"/bills/{bill.public_id}").get_data(as_text=True)
    assert "Hủy lần này và thanh toán lại" in page
    fields = hidden_fields(page)
    left = client.post(f"/bills/{bill.public_id}/abandon", data={"csrf_token": fields["csrf_token"]})
    assert left.status_code == 303 and left.location.endswith(f"/bills/{bill.public_id}")
    assert [p.status for p in _payments(db, bill)] == ["cancelled"]
    assert 'name="provider"' in client.get(f"/bills/{bill.public_id}").get_data(as_text=True)  # the pay form
    _pay_with(client, bill, "4242 4242 4242 4242")
    assert [p.status for p in _payments(db, bill)] == ["cancelled", "succeeded"]


def test_cancelling_a_paid_attempt_keeps_the_payment(client, db, bill):
    url, csrf = _sandbox_page(client, bill)
    from payments.providers import get_provider

    session_id = url.rsplit("/", 1)[1]
    get_provider("sandbox").pay(session_id, "4242424242424242")  # paid; the notification has not arrived
    fields = hidden_fields(client.get(f"/bills/{bill.public_id}").get_data(as_text=True))
    client.post(f"/bills/{bill.public_id}/abandon", data={"csrf_token": fields["csrf_token"]})
    assert [p.status for p in _payments(db, bill)] == ["succeeded"]


def test_a_session_the_provider_no_longer_knows_leaves_the_payer_a_way_on(client, db, bill, tmp_path):
    from core.clock import SYSTEM_CLOCK
    from payments.providers import register_provider, registered_providers
    from payments.providers.sandbox import SandboxProvider
    from payments.providers.sandbox_store import SandboxStore

    _sandbox_page(client, bill)
    configured = registered_providers()["sandbox"]
    empty = SandboxStore.for_database(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    register_provider(SandboxProvider(secret="s" * 32, base_url="https://pay.test", clock=SYSTEM_CLOCK, store=empty))
    try:
        answer = client.get(f"/bills/{bill.public_id}/return")
        assert answer.status_code == 200
        assert "bạn có thể hủy lần thanh toán này và thanh toán lại" in answer.get_data(as_text=True)
    finally:
        register_provider(configured)
        empty.dispose()



#: The return page's statements when it confirms a card payment (this bill's first, so the ledger accounts
#: are created too; on PostgreSQL the sandbox store's read shares the engine): the citizen's session and
#: bill, the status query, the confirmation under lock, settlement, ledger, receipt, the quote closed, the
#: agency-bill check, the bill's paid event, and the page's own reads. Each is a round trip the citizen
#: waits for (bench.deployed_load); it was 33 before the page stopped reading the payment and the bill
#: again (31), and the bill's history row adds one.
RETURN_PAGE_BUDGET = 32


def test_the_return_page_confirms_a_payment_within_its_statement_budget(app, client, db, bill):
    started = client.post(f"/bills/{bill.public_id}/pay", data=_pay_form(client, bill))
    page = client.get(local(started.location)).get_data(as_text=True)
    paid = client.post(local(started.location), data={"csrf_token": hidden_fields(page)["csrf_token"],
                                                       "card_number": "4242 4242 4242 4242", "expiry": "12/39",
                                                       "cvc": "123", "action": "pay"})
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")):
            seen.append(statement.split("\n")[0][:90])

    engine = app.extensions["gateway.db"].engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        answer = client.get(local(paid.location))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert "Thanh toán thành công" in answer.get_data(as_text=True)
    assert len(seen) <= RETURN_PAGE_BUDGET, "\n".join(seen)
