"""Back office for API clients: a system admin registers one, sees the key once, rotates, revokes, re-sends."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from agencies.models import ApiClient
from identity.devidp.seed import seed_demo_staff
from identity.roles import SYSTEM_ADMIN
from payments.agency_models import CallbackDelivery
from tests.citizen.agency_support import create, headers, seed_pricing
from tests.web.oidc_support import form_token, staff_login

KEY = re.compile(r"<code>(gwk_[A-Za-z0-9_-]+)</code>")


@pytest.fixture()
def admin(app, db):
    seed_demo_staff(db, "http://localhost/dev-idp")
    seed_pricing(db)
    db.flush()
    browser = app.test_client()
    staff_login(browser, SYSTEM_ADMIN)
    browser.token = form_token(browser, "/admin/api-clients/")
    return browser


def register(admin, **changes):
    form = {"csrf_token": admin.token, "name": "Phường Ba Đình", "agency_code": "HN-BD", "service_codes": "LLTP",
            "scopes": ["read", "create"], "return_url_domains": "stp.example.vn", "rate_limit_per_minute": "60"}
    form.update(changes)
    return admin.post("/admin/api-clients/", data=form)


def test_a_registered_clients_key_is_shown_once_and_works(admin, db):
    page = register(admin)
    assert page.status_code == 200
    key = KEY.search(page.get_data(as_text=True)).group(1)
    client_row = db.scalars(select(ApiClient).where(ApiClient.agency_code == "HN-BD")).one()
    detail = admin.get(f"/admin/api-clients/{client_row.id}").get_data(as_text=True)
    assert key not in detail and key[:10] in detail
    assert admin.get("/api/v1/bills", headers=headers(key)).status_code == 200


def test_an_invalid_registration_is_422_with_the_reason(admin):
    page = register(admin, scopes=[])
    assert page.status_code == 422 and "scopes" in page.get_data(as_text=True)


def test_rotate_then_revoke(admin, db):
    old_key = KEY.search(register(admin).get_data(as_text=True)).group(1)
    client_row = db.scalars(select(ApiClient).where(ApiClient.agency_code == "HN-BD")).one()
    rotated = admin.post(f"/admin/api-clients/{client_row.id}/keys", data={"csrf_token": admin.token})
    new_key = KEY.search(rotated.get_data(as_text=True)).group(1)
    assert new_key != old_key
    for key in (old_key, new_key):
        assert admin.get("/api/v1/bills", headers=headers(key)).status_code == 200
    first = client_row.keys[0]
    revoked = admin.post(f"/admin/api-clients/{client_row.id}/keys/{first.id}/revoke", data={"csrf_token": admin.token})
    assert revoked.status_code == 302
    assert admin.get("/api/v1/bills", headers=headers(old_key)).status_code == 401


def test_deliveries_are_listed_and_can_be_sent_again(app, admin, db):
    key = KEY.search(register(admin, service_codes="LLTP").get_data(as_text=True)).group(1)
    client_row = db.scalars(select(ApiClient).where(ApiClient.agency_code == "HN-BD")).one()
    create(admin, key)
    delivery = db.scalars(select(CallbackDelivery).where(CallbackDelivery.client_id == client_row.id)).one()
    delivery.status = "failed"
    db.flush()
    assert "bill.created" in admin.get(f"/admin/api-clients/{client_row.id}").get_data(as_text=True)
    sent = admin.post(f"/admin/api-clients/{client_row.id}/deliveries/{delivery.id}/resend",
                      data={"csrf_token": admin.token})
    assert sent.status_code == 302
    db.refresh(delivery)
    assert delivery.status == "pending"


def test_other_roles_cannot_manage_clients(app, db):
    seed_demo_staff(db, "http://localhost/dev-idp")
    browser = app.test_client()
    staff_login(browser, "finance_officer")
    assert browser.get("/admin/api-clients/").status_code == 403
