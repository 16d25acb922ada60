"""Disputes from the pages and the operator API: the payer disputes on the ticket, a finance officer or the
operator's system decides, and the citizen reads the answer and where the money went."""

from __future__ import annotations

from sqlalchemy import select

from parking.models import ParkingDispute
from payments.models.billing import Bill
from payments.models.refunds import Refund
from tests.admin.finance.support import csrf
from tests.citizen.agency_support import headers, make_client
from tests.citizen.payments_support import hidden_fields
from tests.citizen.test_parking_pages import _link, _pay_by_card, _stay, operator_key  # noqa: F401 (a fixture)
from tests.web.oidc_support import HN_LEVEL2, login


def _dispute(client, ticket: str, reason: str = "not_my_vehicle", statement: str = "Xe tôi ở nhà hôm đó"):
    token = hidden_fields(client.get(ticket).get_data(as_text=True))["csrf_token"]
    return client.post(f"{ticket}/dispute", data={"csrf_token": token, "reason": reason, "statement": statement})


def _charged(client, operator_key):  # noqa: F811
    login(client, HN_LEVEL2)
    assert _link(client, "30E-456.78").status_code == 303
    session = _stay(client, operator_key)
    return session, f"/parking/tickets/{session['id']}"


def test_the_payer_disputes_on_the_ticket_an_officer_upholds_and_the_unpaid_charge_is_cancelled(
        client, officer, db, operator_key):  # noqa: F811
    session, ticket = _charged(client, operator_key)
    assert "Khiếu nại khoản phí này" in client.get(ticket).get_data(as_text=True)
    assert _dispute(client, ticket).status_code == 303
    waiting = client.get(ticket).get_data(as_text=True)
    assert "Đang chờ thành phố hoặc đơn vị trông giữ trả lời" in waiting and "Xe tôi ở nhà hôm đó" in waiting
    listed = officer.get("/admin/finance/parking/disputes").get_data(as_text=True)
    dispute = db.scalars(select(ParkingDispute)).one()
    assert dispute.public_id in listed and "30E45678" in listed and "It was not my vehicle" in listed
    page = f"/admin/finance/parking/disputes/{dispute.public_id}"
    assert "Uphold: cancel the unpaid charge" in officer.get(page).get_data(as_text=True)
    decided = officer.post(page, data={"csrf_token": csrf(officer, page), "decision": "uphold",
                                       "note": "Camera đọc nhầm biển số"})
    assert decided.status_code == 303
    assert db.scalars(select(Bill).where(Bill.public_id == session["payment"]["bill_id"])).one().status == "cancelled"
    answered = client.get(ticket).get_data(as_text=True)
    assert "Camera đọc nhầm biển số" in answered and "không phải nộp gì" in answered


def test_a_dispute_without_a_statement_is_refused_on_the_form_with_nothing_written(client, db, operator_key):  # noqa: F811
    _, ticket = _charged(client, operator_key)
    refused = _dispute(client, ticket, statement="  ")
    assert refused.status_code == 422 and 'role="alert"' in refused.get_data(as_text=True)
    assert db.scalars(select(ParkingDispute)).all() == []


def test_an_officers_decision_needs_a_note_and_a_decided_dispute_takes_no_other(client, officer, db, operator_key):  # noqa: F811
    _, ticket = _charged(client, operator_key)
    _dispute(client, ticket)
    page = f"/admin/finance/parking/disputes/{db.scalars(select(ParkingDispute.public_id)).one()}"
    no_note = officer.post(page, data={"csrf_token": csrf(officer, page), "decision": "reject", "note": ""})
    assert no_note.status_code == 422 and "The decision was not recorded" in no_note.get_data(as_text=True)
    officer.post(page, data={"csrf_token": csrf(officer, page), "decision": "reject", "note": "Ảnh camera đúng xe"})
    other = officer.post(page, data={"csrf_token": csrf(officer, page), "decision": "uphold", "note": "Đổi ý"})
    assert other.status_code == 409 and db.scalars(select(ParkingDispute.status)).one() == "rejected"
    assert "Không được chấp nhận" in client.get(ticket).get_data(as_text=True)


def test_the_operators_system_lists_its_disputes_and_upholding_a_paid_charge_refunds_it(app, client, db,
                                                                                       operator_key):  # noqa: F811
    session, ticket = _charged(client, operator_key)
    assert "Thanh toán thành công" in _pay_by_card(client, session["payment"]["bill_id"])
    _dispute(client, ticket, reason="wrong_times", statement="Tôi lấy xe lúc 17:30")
    [listed] = client.get("/api/v1/parking/disputes", headers=headers(operator_key)).get_json()["items"]
    assert (listed["session_id"], listed["reason"], listed["amount"]) == (session["id"], "wrong_times", 12000)
    body = {"decision": "uphold", "note": "Giờ ra đúng là 17:30: lượt ban ngày", "refund_amount": 7000}
    url = f"/api/v1/parking/disputes/{listed['id']}/resolution"
    decided = client.post(url, json=body, headers=headers(operator_key))
    assert decided.status_code == 200, decided.get_json()
    answer = decided.get_json()
    assert (answer["status"], answer["remedy"], answer["refund"]["amount"]) == ("upheld", "refund", 7000)
    assert client.post(url, json=body, headers=headers(operator_key)).get_json() == answer  # a retry: the same
    changed = client.post(url, json={"decision": "reject", "note": "Không"}, headers=headers(operator_key))
    assert changed.status_code == 409 and changed.get_json()["code"] == "dispute_already_resolved"
    [refund] = db.scalars(select(Refund)).all()
    assert (refund.amount, refund.requested_by) == (7000, answer["resolved_by"])
    assert "7.000 ₫" in client.get(ticket).get_data(as_text=True)


def test_another_operators_system_neither_sees_nor_decides_the_dispute(app, client, db, operator_key):  # noqa: F811
    _, ticket = _charged(client, operator_key)
    _dispute(client, ticket)
    _, other_key, _ = make_client(app, db, name="Bãi xe Lê Lợi", agency_code="HCM-PARKING", scopes=("parking",))
    assert client.get("/api/v1/parking/disputes", headers=headers(other_key)).get_json()["items"] == []
    dispute_id = db.scalars(select(ParkingDispute.public_id)).one()
    refused = client.post(f"/api/v1/parking/disputes/{dispute_id}/resolution", headers=headers(other_key),
                          json={"decision": "reject", "note": "Không"})
    assert refused.status_code == 404 and refused.get_json()["code"] == "dispute_not_found"
