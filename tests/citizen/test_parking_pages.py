"""A citizen's parking: link a plate, its exit bills them, pay it to the receipt; a ticket is claimed to pay."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.clock import SYSTEM_CLOCK
from parking.lots import seed_lots
from parking.models import ParkingSession, ParkingVehicle
from payments.models.billing import Bill
from tests.citizen.agency_support import headers, make_client, seed_pricing
from tests.citizen.payments_support import hidden_fields, receipt_link
from tests.web.oidc_support import HCM, HN_LEVEL2, local, login

_serial = iter(range(10**6))


@pytest.fixture()
def operator_key(app, db):
    seed_pricing(db)
    seed_lots(db, clock=SYSTEM_CLOCK)
    _, key, _ = make_client(app, db, name="Hệ thống bãi xe Hàng Khay", agency_code="HN-PARKING",
                            scopes=("parking", "read"))
    return key


def _gate(client, key, kind: str, at: str, plate: str = "30E-456.78"):
    body = {"event_id": f"gate-{next(_serial)}", "lot": "HK-HANG-KHAY", "type": kind, "at": at,
            "vehicle": {"plate": plate, "class": "MOTORBIKE"}, "credential": {"kind": "plate_read", "value": plate}}
    answer = client.post("/api/v1/parking/events", json=body, headers=headers(key))
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _stay(client, key, plate: str = "30E-456.78"):
    """A day-and-night turn: 12.000 ₫ under the seeded Hà Nội tariff."""
    _gate(client, key, "entry", "2026-12-07T08:00:00+07:00", plate)
    return _gate(client, key, "exit", "2026-12-07T19:30:00+07:00", plate)


def _link(client, plate: str, vehicle_class: str = "MOTORBIKE"):
    token = hidden_fields(client.get("/parking/").get_data(as_text=True))["csrf_token"]
    return client.post("/parking/vehicles", data={"csrf_token": token, "plate": plate,
                                                  "vehicle_class": vehicle_class, "rfid_tag": ""})


def _pay_by_card(client, bill_id: str) -> str:
    fields = hidden_fields(client.get(f"/bills/{bill_id}").get_data(as_text=True))
    started = client.post(f"/bills/{bill_id}/pay", data={"csrf_token": fields["csrf_token"],
                                                         "form_token": fields["form_token"], "provider": "sandbox"})
    assert started.status_code == 303, started.get_data(as_text=True)[:500]
    page = client.get(local(started.location)).get_data(as_text=True)
    paid = client.post(local(started.location), data={"csrf_token": hidden_fields(page)["csrf_token"],
                                                       "card_number": "4242424242424242", "expiry": "12/39",
                                                       "cvc": "123", "action": "pay"})
    return client.get(local(paid.location)).get_data(as_text=True)


def test_a_linked_plates_exit_bills_the_citizen_who_pays_it_to_the_receipt(client, db, operator_key):
    login(client, HN_LEVEL2)
    assert _link(client, "30e 456 78").status_code == 303
    assert "30E45678" in client.get("/parking/").get_data(as_text=True)
    session = _stay(client, operator_key)
    payment = session["payment"]
    assert (payment["amount_due"], payment["status"], payment["charged_to"]) == (12000, "open", "linked_citizen")
    assert payment["pay_url"].endswith(f"/parking/tickets/{session['id']}")
    assert payment["vietqr"].endswith(f"/api/v1/bills/{payment['bill_id']}/vietqr")
    listed = client.get("/parking/").get_data(as_text=True)
    assert "Điểm đỗ xe phố Hàng Khay" in listed and "12.000 ₫" in listed
    bill_page = client.get(f"/bills/{payment['bill_id']}").get_data(as_text=True)
    assert "Trông giữ xe máy" in bill_page and "44/2017/QĐ-UBND" in bill_page
    done = _pay_by_card(client, payment["bill_id"])
    assert "Thanh toán thành công" in done
    receipt = client.get(receipt_link(done)).get_data(as_text=True)
    assert "12.000 ₫" in receipt
    bill = db.scalars(select(Bill).where(Bill.public_id == payment["bill_id"])).one()
    assert (bill.status, bill.agency_code, bill.retained_basis_points) == ("paid", "HN-PARKING", 3000)
    again = client.get(f"/api/v1/parking/sessions/{session['id']}", headers=headers(operator_key)).get_json()
    assert again["payment"]["status"] == "paid"


def test_an_unlinked_vehicles_ticket_is_claimed_by_the_driver_who_pays_it(app, client, db, operator_key):
    session = _stay(client, operator_key, plate="29B-111.22")
    assert session["payment"]["charged_to"] == "ticket"
    ticket = local(session["payment"]["pay_url"])
    public = client.get(ticket).get_data(as_text=True)
    assert "12.000 ₫" in public and "29B11122" in public and "/auth/login?next=" in public
    login(client, HCM)
    token = hidden_fields(client.get(ticket).get_data(as_text=True))["csrf_token"]
    claimed = client.post(f"{ticket}/claim", data={"csrf_token": token})
    assert claimed.status_code == 303 and claimed.location.endswith(f"/bills/{session['payment']['bill_id']}")
    assert "Thanh toán thành công" in _pay_by_card(client, session["payment"]["bill_id"])

    other = app.test_client()
    login(other, HN_LEVEL2)
    token = hidden_fields(other.get(ticket).get_data(as_text=True))["csrf_token"]
    refused = other.post(f"{ticket}/claim", data={"csrf_token": token}, headers={"Accept": "application/json"})
    assert refused.status_code == 409 and refused.get_json()["code"] == "parking_session_not_claimable"
    assert other.get(f"/bills/{session['payment']['bill_id']}").status_code == 404


def test_a_plate_linked_to_someone_else_is_refused_on_the_form(app, client, db, operator_key):
    login(client, HN_LEVEL2)
    assert _link(client, "51F-999.99", "CAR").status_code == 303
    other = app.test_client()
    login(other, HCM)
    refused = _link(other, "51f99999", "CAR")
    assert refused.status_code == 409 and "đã được liên kết với một tài khoản định danh khác" in refused.get_data(
        as_text=True)
    bad = _link(other, "1", "CAR")
    assert bad.status_code == 422 and "29A-123.45" in bad.get_data(as_text=True)


def test_an_unlinked_plate_is_billed_to_whoever_links_it_next_only_from_then_on(client, db, operator_key):
    login(client, HN_LEVEL2)
    assert _link(client, "30E-456.78").status_code == 303
    token = hidden_fields(client.get("/parking/").get_data(as_text=True))["csrf_token"]
    assert db.execute(select(ParkingSession.id)).first() is None  # the stay comes after unlinking
    linked = db.scalars(select(ParkingVehicle)).one()
    assert client.post(f"/parking/vehicles/{linked.id}/unlink", data={"csrf_token": token}).status_code == 303
    session = _stay(client, operator_key)
    assert session["payment"]["charged_to"] == "ticket"
    assert "12.000 ₫" not in client.get("/parking/").get_data(as_text=True)


def _buy_pass(client, lot: str = "HK-HANG-KHAY", month: str | None = None):
    page = client.get("/parking/").get_data(as_text=True)
    fields = hidden_fields(page)
    vehicle = re.search(r'name="vehicle">\s*<option value="(\d+)"', page).group(1)
    month = month or SYSTEM_CLOCK.today_in_vietnam().strftime("%Y-%m")
    return client.post("/parking/passes", data={"csrf_token": fields["csrf_token"], "vehicle": vehicle, "lot": lot,
                                                "month": month})


def test_a_citizen_buys_a_monthly_pass_pays_it_and_the_gate_then_charges_nothing(client, db, operator_key):
    login(client, HN_LEVEL2)
    _link(client, "30E-456.78")
    bought = _buy_pass(client)
    assert bought.status_code == 303
    bill_id = local(bought.location).rsplit("/", 1)[1]
    assert db.scalar(select(Bill.amount_due).where(Bill.public_id == bill_id)) == 120_000
    assert _buy_pass(client).location == bought.location  # a second click answers the same pass
    assert receipt_link(_pay_by_card(client, bill_id))
    now = datetime.now(UTC)
    _gate(client, operator_key, "entry", (now - timedelta(hours=2)).isoformat())
    exited = _gate(client, operator_key, "exit", (now - timedelta(minutes=30)).isoformat())
    assert exited["amount"] == 0 and exited["covered_by"].startswith("pass:PS") and exited["payment"] is None
    page = client.get("/parking/").get_data(as_text=True)
    assert "Hiệu lực" in page and "Gia hạn sang tháng sau" in page


def test_a_month_not_on_sale_is_refused_on_the_form_with_nothing_billed(client, db, operator_key):
    login(client, HN_LEVEL2)
    _link(client, "30E-456.78")
    refused = _buy_pass(client, month="2020-01")
    assert refused.status_code == 422
    assert 'role="alert"' in refused.get_data(as_text=True)
    assert db.scalar(select(Bill.id)) is None
