"""Citizen bill pages: own bills only, requote after e-ID login, a 0 đ bill settled, history filters."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from payments.models.billing import Bill
from subsidies.budgets import FundReservation
from subsidies.quotes import Quote
from tests.citizen.payments_support import hidden_fields, receipt_link, seed_bills
from tests.web.oidc_support import HCM, HN_LEVEL1, HN_LEVEL2, login


@pytest.fixture()
def bills(app, db):
    return seed_bills(app, db)


def test_bill_pages_need_a_citizen_login(client, bills):
    response = client.get(f"/bills/{bills['hn'].public_id}")
    assert response.status_code == 302 and "/auth/login" in response.location


@pytest.mark.parametrize("path", ["/bills/{id}", "/bills/{id}/return"])
def test_a_citizen_never_reaches_another_citizens_bill(client, bills, path):
    login(client, HCM)
    response = client.get(path.format(id=bills["hn"].public_id))
    assert response.status_code == 404
    assert client.get(path.format(id="0" * 32)).status_code == 404


def test_posting_to_another_citizens_bill_is_404_and_changes_nothing(client, db, bills):
    login(client, HCM)
    token = hidden_fields(client.get(f"/bills/{bills['hcm'].public_id}").get_data(as_text=True))["csrf_token"]
    assert client.post(f"/bills/{bills['hn'].public_id}/settle", data={"csrf_token": token}).status_code == 404
    response = client.post(f"/bills/{bills['hn'].public_id}/pay",
                           data={"csrf_token": token, "provider": "sandbox", "form_token": "x" * 24})
    assert response.status_code == 404
    db.expire_all()
    assert db.get(Bill, bills["hn"].id).status == "open" and not db.get(Bill, bills["hn"].id).payments


def test_my_bills_requotes_after_login_and_shows_the_amount_with_its_legal_basis(client, db, bills):
    assert bills["hn"].amount_due == 200_000  # the agency priced it without the e-ID level
    first_quote = bills["hn"].quote_id
    login(client, HN_LEVEL2)
    page = client.get("/bills/").get_data(as_text=True)
    assert "0 ₫" in page and "Phiếu lý lịch tư pháp" in page
    assert "11/2024/NQ-HĐND" in page and "244/2016/TT-BTC" in page
    db.expire_all()
    bill = db.get(Bill, bills["hn"].id)
    assert (bill.amount_due, bill.previous_amount_due) == (0, 200_000)
    assert bill.subsidy_lines == [{"programme": "HN-LLTP-2025", "amount": 200_000}]
    # The requote pinned a new subsidies quote and released the first one.
    assert first_quote and bill.quote_id not in (None, first_quote)
    assert (db.get(Quote, first_quote).status, db.get(Quote, bill.quote_id).status) == ("cancelled", "open")


def test_a_bill_requoted_by_the_list_page_is_the_citizens_and_so_is_its_quote(client, db, bills):
    # The bill page attached the bill to the citizen before pricing it again, the list page did not: which
    # of the two requoted first decided whether the quote recorded whom it was for (the deployed journey
    # found it when both pages were asked at once).
    login(client, HN_LEVEL2)
    assert client.get("/bills/").status_code == 200
    db.expire_all()
    bill = db.get(Bill, bills["hn"].id)
    assert bill.citizen_id is not None
    assert db.get(Quote, bill.quote_id).citizen_ref == str(bill.citizen_id)


def test_the_bill_page_says_why_the_amount_changed(client, bills):
    login(client, HN_LEVEL2)
    page = client.get(f"/bills/{bills['hn'].public_id}").get_data(as_text=True)
    assert "Số tiền đã thay đổi từ 200.000 ₫ thành 0 ₫" in page
    assert "Hà Nội hỗ trợ phí lý lịch tư pháp khi nộp qua VNeID" in page


def test_a_level_one_login_keeps_the_fee(client, db, bills):
    login(client, HN_LEVEL1)  # another Hà Nội citizen: not their bill
    assert client.get(f"/bills/{bills['hn'].public_id}").status_code == 404
    db.expire_all()
    assert db.get(Bill, bills["hn"].id).amount_due == 200_000


def test_a_zero_bill_settles_without_a_provider_and_shows_its_receipt(client, db, bills):
    login(client, HN_LEVEL2)
    page = client.get(f"/bills/{bills['hn'].public_id}").get_data(as_text=True)
    assert "Xác nhận và nhận biên lai" in page and 'name="provider"' not in page
    token = hidden_fields(page)["csrf_token"]
    settled = client.post(f"/bills/{bills['hn'].public_id}/settle", data={"csrf_token": token})
    assert settled.status_code == 303
    page = client.get(settled.location).get_data(as_text=True)
    receipt_page = client.get(receipt_link(page)).get_data(as_text=True)
    assert "BLTT" in receipt_page and "0 ₫" in receipt_page and "11/2024/NQ-HĐND" in receipt_page
    assert "Được hỗ trợ toàn bộ, không phải nộp tiền" in receipt_page
    db.expire_all()
    bill = db.get(Bill, bills["hn"].id)
    assert bill.status == "paid"
    # Settling spent what the pinned quote reserved from the city's fund.
    quote_id = bill.quote_id
    assert quote_id == bill.explanation["quote_id"]  # the column, and the explanation still shows it
    assert db.get(Quote, quote_id).status == "paid"
    reservations = db.scalars(select(FundReservation).where(FundReservation.quote_id == quote_id)).all()
    assert reservations and {r.status for r in reservations} == {"committed"}


def test_history_filters_by_status_and_day(client, bills):
    login(client, HCM)
    page = client.get("/bills/history?status=open").get_data(as_text=True)
    assert bills["hcm"].public_id in page
    assert bills["hcm"].public_id not in client.get("/bills/history?status=paid").get_data(as_text=True)
    assert bills["hcm"].public_id not in client.get("/bills/history?to=2020-01-01").get_data(as_text=True)
    assert client.get("/bills/history?status=bogus").status_code == 422


def test_a_level_one_citizen_is_sent_to_step_up_for_a_service_that_needs_level_two(client, db, bills):
    login(client, HN_LEVEL1)
    own = bills["hn_level1"].public_id
    for response in (client.get(f"/bills/{own}"),
                     client.post(f"/bills/{own}/pay", data={"csrf_token": _csrf(client), "provider": "sandbox",
                                                             "form_token": "x" * 24})):
        assert response.status_code == 302
        assert "/auth/step-up" in response.location and "level=2" in response.location
    db.expire_all()
    assert not db.get(Bill, bills["hn_level1"].id).payments


def _csrf(client) -> str:
    return hidden_fields(client.get("/account/").get_data(as_text=True))["csrf_token"]


def test_my_bills_leaves_a_bill_above_the_logins_e_id_level_priced_as_it_was(client, db, bills):
    # Pricing for a citizen below the service's level is refused; the list keeps the bill's quote until the
    # citizen steps up and opens it.
    own = bills["hn_level1"]
    pinned = (own.amount_due, own.quote_id)
    login(client, HN_LEVEL1)
    assert client.get("/bills/").status_code == 200
    db.expire_all()
    again = db.get(Bill, own.id)
    assert (again.amount_due, again.quote_id) == pinned and again.min_eid_level == 2
