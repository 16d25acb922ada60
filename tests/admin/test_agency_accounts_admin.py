"""Back office for agencies' receiving accounts: a system admin lists agencies and sets or replaces an account."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from agencies import accounts
from agencies.models import AgencyAccount
from core.clock import SYSTEM_CLOCK
from identity.devidp.seed import seed_demo_staff
from identity.models import AuditEvent
from identity.roles import FINANCE_OFFICER, POLICY_EDITOR, SYSTEM_ADMIN
from tests.citizen.agency_support import make_client
from tests.payments.factories import make_bill
from tests.web.oidc_support import HN_LEVEL2, form_token, login, staff_login

PAGE = "/admin/agencies/accounts/"


@pytest.fixture()
def admin(app, db):
    seed_demo_staff(db, "http://localhost/dev-idp")
    db.flush()
    browser = app.test_client()
    staff_login(browser, SYSTEM_ADMIN)
    browser.token = form_token(browser, PAGE)
    return browser


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def add(admin, **changes):
    form = {"csrf_token": admin.token, "agency_code": "HN-CA", "bank_bin": "970436",
            "account_number": "0011001234567", "holder_name": "Công an Thành phố Hà Nội"}
    form.update(changes)
    return admin.post(PAGE, data=form)


def count(db) -> int:
    return db.scalar(select(func.count()).select_from(AgencyAccount))


def test_the_list_shows_agencies_known_from_api_clients_bills_and_accounts(app, admin, db):
    make_client(app, db, agency_code="HN-BD")
    make_bill(db, SYSTEM_CLOCK, agency_code="HCM-CA")
    accounts.set_receiving_account(db, "DEMO-STP", bank_bin="970418", account_number="12010000123456",
                                   holder_name="SO TU PHAP HA NOI", actor="seed", clock=SYSTEM_CLOCK)
    db.flush()
    page = text(admin.get(PAGE))
    rows = {code: row for code, row in re.findall(r'<tr id="agency-([^"]+)">(.*?)</tr>', page, re.S)}
    assert {"HN-BD", "HCM-CA", "DEMO-STP"} <= set(rows)
    assert "BIDV (970418)" in rows["DEMO-STP"] and "12010000123456" in rows["DEMO-STP"]
    assert "SO TU PHAP HA NOI" in rows["DEMO-STP"]
    for code in ("HN-BD", "HCM-CA"):
        assert "VietQR" in rows[code] and f"/admin/agencies/accounts/{code}" in rows[code]


def test_an_account_set_through_the_form_is_saved_normalised_audited_and_shown(admin, db):
    saved = add(admin)
    assert saved.status_code == 302
    account = accounts.receiving_account(db, "HN-CA")
    assert (account.bank_name, account.account_number, account.holder_name) == (
        "Vietcombank", "0011001234567", "CONG AN THANH PHO HA NOI")
    assert account.updated_by.startswith("staff:")
    event = db.scalars(select(AuditEvent).where(AuditEvent.event == "agency_account_set")).one()
    assert event.target == "agency:HN-CA" and event.actor == account.updated_by and event.request_id
    page = text(admin.get(saved.location))
    assert "CONG AN THANH PHO HA NOI" in page and 'role="status"' in page


def test_an_agencys_own_form_replaces_its_account(admin, db):
    add(admin)
    form = text(admin.get("/admin/agencies/accounts/HN-CA"))
    assert 'value="0011001234567"' in form and 'value="970436"' in form
    replaced = admin.post("/admin/agencies/accounts/HN-CA", data={
        "csrf_token": admin.token, "bank_bin": "970415", "account_number": "113000012345",
        "holder_name": "CONG AN HA NOI"})
    assert replaced.status_code == 302
    account = accounts.receiving_account(db, "HN-CA")
    assert (account.bank_name, account.account_number) == ("VietinBank", "113000012345")
    assert count(db) == 1


def test_a_bad_bin_is_a_422_page_naming_the_field_and_writes_nothing(admin, db):
    page = add(admin, bank_bin="97043")
    assert page.status_code == 422
    body = text(page)
    error = re.search(r'<p class="field-error" id="bank_bin-error">(.*?)</p>', body)
    assert error and "970436" in error.group(1)
    assert 'aria-invalid="true"' in body and 'value="97043"' in body
    assert "account_number-error" not in body and "holder_name-error" not in body
    assert count(db) == 0
    assert db.scalar(select(func.count()).select_from(AuditEvent)
                     .where(AuditEvent.event == "agency_account_set")) == 0


def test_a_refused_replacement_on_an_agencys_form_is_422_and_keeps_the_old_account(admin, db):
    add(admin)
    page = admin.post("/admin/agencies/accounts/HN-CA", data={
        "csrf_token": admin.token, "bank_bin": "970436", "account_number": "0011-0012",
        "holder_name": "CONG AN, HA NOI"})
    assert page.status_code == 422
    body = text(page)
    assert 'id="account_number-error"' in body and 'id="holder_name-error"' in body
    assert accounts.receiving_account(db, "HN-CA").account_number == "0011001234567"


def test_a_post_without_the_csrf_token_is_refused_and_writes_nothing(admin, db):
    refused = admin.post(PAGE, data={"agency_code": "HN-CA", "bank_bin": "970436",
                                     "account_number": "0011001234567", "holder_name": "CONG AN HA NOI"})
    assert refused.status_code == 400 and "csrf_failed" in refused.get_data(as_text=True)
    assert count(db) == 0


@pytest.mark.parametrize("role", [FINANCE_OFFICER, POLICY_EDITOR])
def test_staff_without_the_system_admin_role_get_403(app, db, role):
    seed_demo_staff(db, "http://localhost/dev-idp")
    browser = app.test_client()
    staff_login(browser, role)
    assert browser.get(PAGE).status_code == 403
    assert browser.get("/admin/agencies/accounts/HN-CA").status_code == 403


def test_a_citizen_and_an_anonymous_visitor_are_sent_to_the_staff_login(app, db):
    citizen = app.test_client()
    login(citizen, HN_LEVEL2)
    for browser in (citizen, app.test_client()):
        response = browser.get(PAGE)
        assert response.status_code == 302 and "/auth/staff/login" in response.location


def test_the_back_office_home_links_the_page_for_system_admins(admin):
    assert 'href="/admin/agencies/accounts/"' in admin.get("/admin/").get_data(as_text=True)
