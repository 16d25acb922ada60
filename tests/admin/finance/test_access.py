"""Who may use the finance pages: finance roles only; signing off and approving are the approver's."""

from __future__ import annotations

import pytest

from identity.roles import FINANCE_APPROVER, FINANCE_OFFICER, POLICY_EDITOR, SYSTEM_ADMIN

PAGES = ("/admin/finance/", "/admin/finance/imports", "/admin/finance/runs", "/admin/finance/breaks",
         "/admin/finance/reports")


@pytest.mark.parametrize("role", [FINANCE_OFFICER, FINANCE_APPROVER])
def test_finance_roles_see_every_page(login_as, role):
    client = login_as(role)
    for path in PAGES:
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("role", [POLICY_EDITOR, SYSTEM_ADMIN])
def test_other_staff_are_refused(login_as, role):
    client = login_as(role)
    for path in PAGES:
        assert client.get(path).status_code == 403, path


def test_anonymous_callers_are_sent_to_the_staff_login(client):
    response = client.get("/admin/finance/breaks")
    assert response.status_code == 302 and "/auth/staff/login" in response.location


def test_an_officer_cannot_sign_off_or_approve(officer):
    from tests.admin.finance.support import csrf

    token = csrf(officer)
    assert officer.post("/admin/finance/runs/1/sign-off", data={"csrf_token": token}).status_code == 403
    assert officer.post("/admin/finance/breaks/1/approve", data={"csrf_token": token}).status_code == 403


def test_the_pages_are_in_vietnamese_by_default(login_as):
    client = login_as(FINANCE_OFFICER, "vi")
    page = client.get("/admin/finance/").get_data(as_text=True)
    assert "Bảng điều khiển tài chính" in page
