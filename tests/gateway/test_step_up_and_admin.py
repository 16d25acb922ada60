"""Step-up to e-ID level 2, session timeouts at the edge, and the back office's role administration."""

from datetime import timedelta

from sqlalchemy import select

from identity.devidp.seed import seed_demo_staff
from identity.models import AuditEvent, RoleGrantRequest, StaffAccount, WebSession
from identity.role_requests import propose_grant
from identity.roles import FINANCE_APPROVER, FINANCE_OFFICER, POLICY_EDITOR, SYSTEM_ADMIN
from identity.staff import create_admin
from tests.web.oidc_support import (
    HN_LEVEL1,
    HN_LEVEL2,
    authorize,
    form_token,
    local,
    login,
    query,
    staff_login,
)
from web.auth import require_citizen


def test_require_citizen_level_two_sends_level_one_to_step_up_then_explains_level_two(app, client, db):
    assert require_citizen(2)(lambda: "a level-2 service").access_rule == ("citizen", 2)
    login(client, HN_LEVEL1)
    step_up = client.get("/auth/step-up?next=/account/")
    assert step_up.status_code == 200 and "/auth/login?level=2" in step_up.get_data(as_text=True)
    started = client.get("/auth/login?level=2&next=/account/")
    params = query(started.location)
    assert params["acr_values"] == "urn:vn:vneid:loa:2" and params["prompt"] == "login"
    callback = authorize(client, "/auth/login?level=2&next=/account/", HN_LEVEL1)
    still_level_one = client.get(local(callback.url))
    assert local(still_level_one.location).startswith("/auth/level-2")
    explained = client.get(local(still_level_one.location)).get_data(as_text=True)
    assert "Định danh điện tử của bạn đang ở mức 1" in explained and "/auth/login?level=2" in explained


def test_a_level_two_login_after_step_up_goes_straight_to_the_service(client, db):
    login(client, HN_LEVEL2)
    response = login(client, HN_LEVEL2, start_path="/auth/login?level=2&next=/account/data.json")
    assert local(response.location) == "/account/data.json"


def test_an_idle_citizen_session_ends_and_the_page_asks_to_log_in(client, db):
    login(client, HN_LEVEL2)
    idle_for(db, 31)
    response = client.get("/account/")
    assert response.status_code == 302 and local(response.location).startswith("/auth/login")
    assert db.scalars(select(WebSession)).one().end_reason == "idle"


def test_an_admin_grants_a_role_in_the_back_office_and_it_is_audited(client, db):
    seed_demo_staff(db, "http://localhost/dev-idp")
    staff_login(client, SYSTEM_ADMIN)
    editor = db.scalars(select(StaffAccount).where(StaffAccount.subject == "staff-policy-editor")).one()
    page = client.get("/admin/staff")
    assert page.status_code == 200 and "Bùi Thị Lan" in page.get_data(as_text=True)
    token = form_token(client, "/admin/staff")
    proposed = client.post(f"/admin/staff/{editor.id}/roles",
                           data={"csrf_token": token, "role": FINANCE_OFFICER, "action": "grant"})
    assert proposed.status_code == 302
    db.refresh(editor)
    assert editor.role_names == {POLICY_EDITOR}  # proposed: a second admin decides
    me = db.scalars(select(StaffAccount).where(StaffAccount.subject == "staff-system-admin")).one()
    other, _ = create_admin(db, issuer=me.issuer, subject="second-admin", display_name="Quản trị viên thứ hai")
    theirs = propose_grant(db, editor, FINANCE_APPROVER, proposed_by=other)
    db.flush()
    page = client.get("/admin/staff").get_data(as_text=True)
    assert "chờ quản trị viên thứ hai" in page
    approved = client.post(f"/admin/role-requests/{theirs.id}", data={"csrf_token": token, "decision": "approve"})
    assert approved.status_code == 302
    db.refresh(editor)
    assert editor.role_names == {POLICY_EDITOR, FINANCE_APPROVER}
    mine = db.scalars(select(RoleGrantRequest).where(RoleGrantRequest.requested_by_id == me.id)).one()
    refused = client.post(f"/admin/role-requests/{mine.id}", data={"csrf_token": token, "decision": "approve"})
    assert refused.status_code == 403  # his own proposal
    revoked = client.post(f"/admin/staff/{editor.id}/roles",
                          data={"csrf_token": token, "role": POLICY_EDITOR, "action": "revoke"})
    assert revoked.status_code == 302
    audit_page = client.get("/admin/audit").get_data(as_text=True)
    assert all(name in audit_page for name in ("role_grant_proposed", "role_granted", "role_revoked"))
    assert client.post(f"/admin/staff/{editor.id}/roles",
                       data={"csrf_token": token, "role": "superuser", "action": "grant"}).status_code == 422
    assert client.post("/admin/staff/999999/roles",
                       data={"csrf_token": token, "role": FINANCE_OFFICER, "action": "grant"}).status_code == 404


def test_staff_sessions_time_out_after_fifteen_idle_minutes(client, db):
    seed_demo_staff(db, "http://localhost/dev-idp")
    staff_login(client, FINANCE_OFFICER)
    assert client.get("/admin/").status_code == 200
    idle_for(db, 16)
    response = client.get("/admin/")
    assert response.status_code == 302 and local(response.location).startswith("/auth/staff/login")


def test_a_new_staff_member_has_no_roles_until_an_admin_grants_them(client, db):
    staff_login(client, POLICY_EDITOR)  # not seeded: provisioned at first login, with no roles
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/staff").status_code == 403
    assert db.scalars(select(AuditEvent).where(AuditEvent.event == "staff_account_created")).one()



def idle_for(db, minutes):
    """Pretend the session's last request was ``minutes`` ago."""
    row = db.scalars(select(WebSession)).one()
    row.last_seen_at = row.last_seen_at - timedelta(minutes=minutes)
    row.created_at = row.created_at - timedelta(minutes=minutes)
    db.flush()
