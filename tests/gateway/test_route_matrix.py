"""Every route, every kind of caller, the expected status: and no route may be missing from the matrix.

Adding a route without an entry here fails ``test_every_route_has_an_entry``: decide who may call it first.
Rules: ``PUBLIC`` (every caller gets the same answer), ``citizen(level)`` (anonymous and staff
are sent to log in, lower levels to step-up) and ``staff(*roles)`` (citizens and anonymous are sent to the
staff login, staff without one of the roles get 403; no roles listed means any staff member); logout answers everyone,
differently with and without a session.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from identity.devidp.seed import seed_demo_staff
from identity.models import StaffAccount
from identity.roles import FINANCE_APPROVER, FINANCE_OFFICER, POLICY_APPROVER, POLICY_EDITOR, ROLES, SYSTEM_ADMIN
from tests.web.oidc_support import HN_LEVEL1, HN_LEVEL2, local, login, staff_login

PUBLIC = ("public",)


def citizen(level: int) -> tuple:
    return ("citizen", level)


def staff(*roles: str) -> tuple:
    return ("staff", roles)


#: (endpoint, method) -> (path, rule, status for an allowed caller). Order matters: logout goes last.
MATRIX: dict[tuple[str, str], tuple[str, tuple, int]] = {
    ("static", "GET"): ("/static/css/site.css", PUBLIC, 200),
    ("i18n.switch_language", "GET"): ("/language/en", PUBLIC, 302),
    ("health.healthz", "GET"): ("/healthz", PUBLIC, 200),
    ("health.readyz", "GET"): ("/readyz", PUBLIC, 200),
    ("pages.home", "GET"): ("/", PUBLIC, 200),
    ("devidp.discovery", "GET"): ("/dev-idp/.well-known/openid-configuration", PUBLIC, 200),
    ("devidp.jwks", "GET"): ("/dev-idp/jwks", PUBLIC, 200),
    ("devidp.authorize", "GET"): ("/dev-idp/authorize", PUBLIC, 400),
    ("devidp.authorize_choose", "POST"): ("/dev-idp/authorize", PUBLIC, 400),
    ("devidp.token", "POST"): ("/dev-idp/token", PUBLIC, 400),
    ("devidp.userinfo", "GET"): ("/dev-idp/userinfo", PUBLIC, 401),
    ("devidp.userinfo", "POST"): ("/dev-idp/userinfo", PUBLIC, 401),
    ("devidp.end_session", "GET"): ("/dev-idp/end-session", PUBLIC, 200),
    ("auth.login", "GET"): ("/auth/login", PUBLIC, 302),
    ("auth.callback", "GET"): ("/auth/callback", PUBLIC, 400),
    ("auth.staff_login", "GET"): ("/auth/staff/login", PUBLIC, 302),
    ("auth.staff_callback", "GET"): ("/auth/staff/callback", PUBLIC, 400),
    ("auth.backchannel_logout", "POST"): ("/auth/backchannel-logout", PUBLIC, 400),
    ("auth.staff_backchannel_logout", "POST"): ("/auth/staff/backchannel-logout", PUBLIC, 400),
    ("auth.logged_out", "GET"): ("/auth/logged-out", PUBLIC, 200),
    ("auth.step_up", "GET"): ("/auth/step-up", PUBLIC, 200),
    ("auth.level_two", "GET"): ("/auth/level-2", PUBLIC, 200),
    ("account.consent", "GET"): ("/account/consent", citizen(0), 200),
    ("account.consent", "POST"): ("/account/consent", citizen(0), 303),
    ("account.profile", "GET"): ("/account/", citizen(1), 200),
    ("account.download", "GET"): ("/account/data.json", citizen(1), 200),
    # E-mail for receipts and reminders: an empty form is refused (422) and shows the page again.
    ("account.email", "POST"): ("/account/email", citizen(1), 422),
    ("admin.home", "GET"): ("/admin/", staff(), 200),
    ("admin.staff_list", "GET"): ("/admin/staff", staff(SYSTEM_ADMIN), 200),
    ("admin.change_role", "POST"): ("/admin/staff/{officer}/roles", staff(SYSTEM_ADMIN), 302),
    ("admin.decide_role_request", "POST"): ("/admin/role-requests/999999", staff(SYSTEM_ADMIN), 404),
    ("admin.end_staff_sessions", "POST"): ("/admin/staff/{officer}/sessions/end", staff(SYSTEM_ADMIN), 302),
    ("admin.audit_log", "GET"): ("/admin/audit", staff(SYSTEM_ADMIN), 200),
    # Routes of other capabilities (their owners confirm the rule when they change them).
    ("api-docs.openapi_json", "GET"): ("/api/v1/openapi.json", PUBLIC, 200),
    ("api_quotes.create_quote_preview", "POST"): ("/api/v1/quotes", PUBLIC, 0),
    ("fees.index", "GET"): ("/fees", PUBLIC, 200),
    ("fees.calculator", "GET"): ("/fees/calculator", PUBLIC, 0),
    # policy: the rules back office (editors draft, approvers decide, both read); ids that do not exist give 404.
    ("policy.index", "GET"): ("/admin/policy/", staff(POLICY_EDITOR, POLICY_APPROVER), 200),
    ("policy.rule_history", "GET"): ("/admin/policy/rules/NO-RULE", staff(POLICY_EDITOR, POLICY_APPROVER), 404),
    ("policy.rule_diff", "GET"): ("/admin/policy/rules/NO-RULE/diff?a=1&b=2", staff(POLICY_EDITOR, POLICY_APPROVER),
                                  404),
    ("policy.version", "GET"): ("/admin/policy/versions/999999", staff(POLICY_EDITOR, POLICY_APPROVER), 404),
    ("policy.export", "GET"): ("/admin/policy/export.yaml", staff(POLICY_EDITOR, POLICY_APPROVER), 200),
    ("policy.simulate", "POST"): ("/admin/policy/versions/999999/simulate", staff(POLICY_EDITOR, POLICY_APPROVER),
                                  422),
    ("policy.new_draft", "GET"): ("/admin/policy/drafts/new", staff(POLICY_EDITOR), 200),
    ("policy.create_draft", "POST"): ("/admin/policy/drafts/new", staff(POLICY_EDITOR), 422),
    ("policy.edit_draft", "GET"): ("/admin/policy/versions/999999/edit", staff(POLICY_EDITOR), 404),
    ("policy.update_draft", "POST"): ("/admin/policy/versions/999999/edit", staff(POLICY_EDITOR), 404),
    ("policy.submit", "POST"): ("/admin/policy/versions/999999/submit", staff(POLICY_EDITOR), 404),
    ("policy.import_form", "GET"): ("/admin/policy/import", staff(POLICY_EDITOR), 200),
    ("policy.import_file", "POST"): ("/admin/policy/import", staff(POLICY_EDITOR), 422),
    ("policy.send_back", "POST"): ("/admin/policy/versions/999999/send-back", staff(POLICY_APPROVER), 422),
    ("policy.approve", "POST"): ("/admin/policy/versions/999999/approve", staff(POLICY_APPROVER), 404),
    ("policy.publish", "POST"): ("/admin/policy/versions/999999/publish", staff(POLICY_APPROVER), 404),
    ("policy.retire", "POST"): ("/admin/policy/versions/999999/retire", staff(POLICY_APPROVER), 422),
    # policy: the beneficiary registry (editors import, both read; an empty upload is refused) and the funds.
    ("policy.beneficiaries", "GET"): ("/admin/policy/beneficiaries", staff(POLICY_EDITOR, POLICY_APPROVER), 200),
    ("policy.beneficiary_batches", "GET"): ("/admin/policy/beneficiaries/batches",
                                            staff(POLICY_EDITOR, POLICY_APPROVER), 200),
    ("policy.beneficiary_import_form", "GET"): ("/admin/policy/beneficiaries/import", staff(POLICY_EDITOR), 200),
    ("policy.beneficiary_import", "POST"): ("/admin/policy/beneficiaries/import", staff(POLICY_EDITOR), 422),
    ("policy.budgets", "GET"): ("/admin/policy/budgets", staff(POLICY_EDITOR, POLICY_APPROVER), 200),
    # finance: officers and approvers use the pages; sign-off, approving a break or a refund are the approver's alone.
    # Ids that do not exist give 404; forms posted empty are refused with 422.
    ("finance.dashboard", "GET"): ("/admin/finance/", staff(FINANCE_OFFICER, FINANCE_APPROVER), 200),
    ("finance.imports", "GET"): ("/admin/finance/imports", staff(FINANCE_OFFICER, FINANCE_APPROVER), 200),
    ("finance.upload", "POST"): ("/admin/finance/imports", staff(FINANCE_OFFICER, FINANCE_APPROVER), 422),
    ("finance.runs", "GET"): ("/admin/finance/runs", staff(FINANCE_OFFICER, FINANCE_APPROVER), 200),
    ("finance.start_run", "POST"): ("/admin/finance/runs", staff(FINANCE_OFFICER, FINANCE_APPROVER), 422),
    ("finance.run_request", "GET"): ("/admin/finance/runs/requests/999999", staff(FINANCE_OFFICER, FINANCE_APPROVER),
                                     404),
    ("finance.run", "GET"): ("/admin/finance/runs/999999", staff(FINANCE_OFFICER, FINANCE_APPROVER), 404),
    ("finance.confirm_suggestion", "POST"): ("/admin/finance/runs/999999/suggestions/999999/confirm",
                                             staff(FINANCE_OFFICER, FINANCE_APPROVER), 404),
    ("finance.sign_off", "POST"): ("/admin/finance/runs/999999/sign-off", staff(FINANCE_APPROVER), 404),
    ("finance.breaks", "GET"): ("/admin/finance/breaks", staff(FINANCE_OFFICER, FINANCE_APPROVER), 200),
    ("finance.break_detail", "GET"): ("/admin/finance/breaks/999999", staff(FINANCE_OFFICER, FINANCE_APPROVER), 404),
    ("finance.move_break", "POST"): ("/admin/finance/breaks/999999/move", staff(FINANCE_OFFICER, FINANCE_APPROVER),
                                     404),
    ("finance.approve_break", "POST"): ("/admin/finance/breaks/999999/approve", staff(FINANCE_APPROVER), 404),
    ("finance.reports", "GET"): ("/admin/finance/reports", staff(FINANCE_OFFICER, FINANCE_APPROVER), 200),
    ("finance.download_report", "GET"): ("/admin/finance/reports/service.csv",
                                         staff(FINANCE_OFFICER, FINANCE_APPROVER), 200),
    ("finance.remittance", "GET"): ("/admin/finance/remittance", staff(FINANCE_OFFICER, FINANCE_APPROVER), 200),
    ("finance.download_remittance", "GET"): ("/admin/finance/remittance.csv",
                                             staff(FINANCE_OFFICER, FINANCE_APPROVER), 200),
    ("finance.check_remittance", "POST"): ("/admin/finance/remittance/check",
                                           staff(FINANCE_OFFICER, FINANCE_APPROVER), 400),
    # parking settlement: with no operator registered the page says so; the check and downloads need one
    ("finance.parking", "GET"): ("/admin/finance/parking", staff(FINANCE_OFFICER, FINANCE_APPROVER), 200),
    ("finance.download_parking", "GET"): ("/admin/finance/parking.csv", staff(FINANCE_OFFICER, FINANCE_APPROVER), 404),
    ("finance.check_parking", "POST"): ("/admin/finance/parking/check", staff(FINANCE_OFFICER, FINANCE_APPROVER), 400),
    ("finance.parking_disputes", "GET"): ("/admin/finance/parking/disputes", staff(FINANCE_OFFICER, FINANCE_APPROVER),
                                          200),
    ("finance.parking_dispute", "GET"): ("/admin/finance/parking/disputes/DP0", staff(FINANCE_OFFICER,
                                                                                       FINANCE_APPROVER), 404),
    ("finance.resolve_parking_dispute", "POST"): ("/admin/finance/parking/disputes/DP0",
                                                  staff(FINANCE_OFFICER, FINANCE_APPROVER), 404),
    ("finance.transactions", "GET"): ("/admin/finance/transactions", staff(FINANCE_OFFICER, FINANCE_APPROVER), 200),
    ("finance.transaction", "GET"): ("/admin/finance/transactions/GW0000000000",
                                     staff(FINANCE_OFFICER, FINANCE_APPROVER), 404),
    ("finance.refunds", "GET"): ("/admin/finance/refunds", staff(FINANCE_OFFICER, FINANCE_APPROVER), 200),
    ("finance.refund_payment", "GET"): ("/admin/finance/refunds/payments/GW0000000000",
                                        staff(FINANCE_OFFICER, FINANCE_APPROVER), 404),
    ("finance.request_refund", "POST"): ("/admin/finance/refunds/payments/GW0000000000",
                                         staff(FINANCE_OFFICER, FINANCE_APPROVER), 404),
    ("finance.refund", "GET"): ("/admin/finance/refunds/00000000000000000000000000000000",
                                staff(FINANCE_OFFICER, FINANCE_APPROVER), 404),
    ("finance.approve_refund", "POST"): ("/admin/finance/refunds/00000000000000000000000000000000/approve",
                                         staff(FINANCE_APPROVER), 404),
    # payments: citizen bill pages and receipts (ids that are not the caller's give 404, also when paying);
    # provider webhooks and the sandbox's hosted page answer everyone alike; anyone may verify a receipt.
    ("webhooks.stripe", "POST"): ("/webhooks/stripe", PUBLIC, 422),
    ("webhooks.sandbox", "POST"): ("/webhooks/sandbox", PUBLIC, 400),
    ("sandbox.checkout", "GET"): ("/sandbox/pay/sbx_000000000000000000000000", PUBLIC, 404),
    # VietQR: the QR page and its image are public like a hosted page (no payer data on them); bank feeds
    # authenticate by their own key; the test bank exists only with the built-in feed (not in production).
    ("webhooks.bank", "POST"): ("/webhooks/bank/nobody", PUBLIC, 400),
    ("vietqr.show", "GET"): ("/pay/vietqr/GW0000000000", PUBLIC, 404),
    ("vietqr.png", "GET"): ("/pay/vietqr/GW0000000000.png", PUBLIC, 404),
    ("vietqr.status", "GET"): ("/pay/vietqr/GW0000000000/status", PUBLIC, 404),
    ("webhooks.vnpay_ipn", "GET"): ("/webhooks/vnpay/ipn", PUBLIC, 200),
    ("vnpay_sim.page", "GET"): ("/vnpay-sim/paymentv2/vpcpay.html", PUBLIC, 400),
    ("vnpay_sim.complete", "POST"): ("/vnpay-sim/paymentv2/vpcpay.html", PUBLIC, 400),
    ("vnpay_sim.api", "POST"): ("/vnpay-sim/merchant_webapi/api/transaction", PUBLIC, 400),
    ("dev_bank.show", "GET"): ("/dev-bank/GW0000000000", PUBLIC, 404),
    ("dev_bank.send", "POST"): ("/dev-bank/GW0000000000", PUBLIC, 404),
    ("sandbox.submit", "POST"): ("/sandbox/pay/sbx_000000000000000000000000", PUBLIC, 404),
    ("bills.index", "GET"): ("/bills/", citizen(1), 200),
    ("bills.history", "GET"): ("/bills/history", citizen(1), 200),
    ("bills.show", "GET"): ("/bills/00000000000000000000000000000000", citizen(1), 404),
    ("bills.pay", "POST"): ("/bills/00000000000000000000000000000000/pay", citizen(1), 404),
    ("bills.settle", "POST"): ("/bills/00000000000000000000000000000000/settle", citizen(1), 404),
    ("bills.abandon", "POST"): ("/bills/00000000000000000000000000000000/abandon", citizen(1), 404),
    ("bills.payment_return", "GET"): ("/bills/00000000000000000000000000000000/return", citizen(1), 404),
    ("receipts.show", "GET"): ("/receipts/00000000000000000000000000000000", citizen(1), 404),
    ("receipts.pdf", "GET"): ("/receipts/00000000000000000000000000000000.pdf", citizen(1), 404),
    ("receipts.signed", "GET"): ("/receipts/00000000000000000000000000000000.jws", citizen(1), 404),
    ("receipts.verify", "GET"): ("/receipts/verify", PUBLIC, 200),
    # a citizen's parking: vehicles (an empty link form is 422, someone else's vehicle 422) and tickets
    ("parking.index", "GET"): ("/parking/", citizen(1), 200),
    ("parking.link", "POST"): ("/parking/vehicles", citizen(1), 422),
    ("parking.unlink", "POST"): ("/parking/vehicles/999999/unlink", citizen(1), 422),
    ("parking.ticket", "GET"): ("/parking/tickets/PK0000000000000000", PUBLIC, 404),
    ("parking.claim", "POST"): ("/parking/tickets/PK0000000000000000/claim", citizen(1), 404),
    ("parking.dispute", "POST"): ("/parking/tickets/PK0000000000000000/dispute", citizen(1), 404),
    # monthly passes: an empty purchase form is 422, someone else's (or no) pass 404
    ("parking.buy_pass", "POST"): ("/parking/passes", citizen(1), 422),
    ("parking.renew_pass", "POST"): ("/parking/passes/PS0000000000000000/renew", citizen(1), 404),
    # agency API: API-key routes answer 401 to every caller without a key (cookies never authenticate them);
    # API clients are managed by system admins only; ids that do not exist give 404, empty forms 422.
    ("api_bills.create_bill", "POST"): ("/api/v1/bills", PUBLIC, 401),
    ("api_bills.list_bills", "GET"): ("/api/v1/bills", PUBLIC, 401),
    ("api_bills.get_bill", "GET"): ("/api/v1/bills/NO-BILL", PUBLIC, 401),
    ("api_bills.cancel_bill", "POST"): ("/api/v1/bills/NO-BILL/cancel", PUBLIC, 401),
    ("api_bills.list_payments", "GET"): ("/api/v1/bills/NO-BILL/payments", PUBLIC, 401),
    ("api_bills.get_receipt", "GET"): ("/api/v1/bills/NO-BILL/receipt", PUBLIC, 401),
    ("api_bills.get_vietqr", "GET"): ("/api/v1/bills/NO-BILL/vietqr", PUBLIC, 401),
    ("api_parking.send_event", "POST"): ("/api/v1/parking/events", PUBLIC, 401),
    ("api_parking.send_count", "POST"): ("/api/v1/parking/counts", PUBLIC, 401),
    ("api_parking.get_session", "GET"): ("/api/v1/parking/sessions/PK0", PUBLIC, 401),
    ("api_parking_disputes.list_disputes", "GET"): ("/api/v1/parking/disputes", PUBLIC, 401),
    ("api_parking_disputes.resolve", "POST"): ("/api/v1/parking/disputes/DP0/resolution", PUBLIC, 401),
    ("api_bills.create_refund", "POST"): ("/api/v1/bills/NO-BILL/refunds", PUBLIC, 401),
    ("api_docs_page.api_docs", "GET"): ("/api/v1/docs", PUBLIC, 200),
    ("agency_links.follow", "GET"): ("/pay/NO-TOKEN", PUBLIC, 404),
    ("api_clients.index", "GET"): ("/admin/api-clients/", staff(SYSTEM_ADMIN), 200),
    ("api_clients.register", "POST"): ("/admin/api-clients/", staff(SYSTEM_ADMIN), 422),
    ("api_clients.detail", "GET"): ("/admin/api-clients/999999", staff(SYSTEM_ADMIN), 404),
    ("api_clients.rotate_key", "POST"): ("/admin/api-clients/999999/keys", staff(SYSTEM_ADMIN), 404),
    ("api_clients.revoke_key", "POST"): ("/admin/api-clients/999999/keys/999999/revoke", staff(SYSTEM_ADMIN), 404),
    ("api_clients.rotate_secret", "POST"): ("/admin/api-clients/999999/signing-secret", staff(SYSTEM_ADMIN), 404),
    ("api_clients.set_active", "POST"): ("/admin/api-clients/999999/active", staff(SYSTEM_ADMIN), 404),
    ("api_clients.resend_delivery", "POST"): ("/admin/api-clients/999999/deliveries/999999/resend",
                                              staff(SYSTEM_ADMIN), 404),
    # agencies' receiving accounts (VietQR): system admins only; an empty form is refused (422).
    ("agency_accounts.index", "GET"): ("/admin/agencies/accounts/", staff(SYSTEM_ADMIN), 200),
    ("agency_accounts.add", "POST"): ("/admin/agencies/accounts/", staff(SYSTEM_ADMIN), 422),
    ("agency_accounts.edit", "GET"): ("/admin/agencies/accounts/NO-AGENCY", staff(SYSTEM_ADMIN), 200),
    ("agency_accounts.update", "POST"): ("/admin/agencies/accounts/NO-AGENCY", staff(SYSTEM_ADMIN), 422),
    # the demo agency (embedded default only; 404 until `python -m gateway seed` registered its client)
    ("demo_agency.page", "GET"): ("/demo/agency", PUBLIC, 404),
    ("demo_agency.create", "POST"): ("/demo/agency/bills", PUBLIC, 404),
    ("demo_agency.pay", "POST"): ("/demo/agency/bills/NO-BILL/pay", PUBLIC, 404),
    ("demo_agency.receive", "POST"): ("/api/v1/demo-agency/callbacks", PUBLIC, 404),
    ("auth.logout", "POST"): ("/auth/logout", ("session", 302), 200),
}
#: Form data sent with POST routes (a CSRF token is always added).
FORMS = {("admin.change_role", "POST"): {"role": FINANCE_OFFICER, "action": "grant"},
         ("admin.decide_role_request", "POST"): {"decision": "approve"},
         # An unreadable period: the check is refused before it runs anything.
         ("finance.check_remittance", "POST"): {"from": "not a day"}}
CALLERS = ("anonymous", "citizen_level1", "citizen_level2", *ROLES)


def app_routes(app) -> set[tuple[str, str]]:
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_has_an_entry(app):
    missing = sorted(app_routes(app) - set(MATRIX))
    assert not missing, f"routes without an access entry in the matrix: {missing}"


def test_no_entry_is_stale(app):
    assert not sorted(set(MATRIX) - app_routes(app))


def expected_status(rule: tuple, caller: str, allowed_status: int) -> int | None:
    """The status ``caller`` must get; None for public routes (same for everyone)."""
    if rule[0] == "public":
        return None
    if rule[0] == "session":  # open to all; anonymous callers get rule[1], logged-in ones allowed_status
        return rule[1] if caller == "anonymous" else allowed_status
    if rule[0] == "citizen":
        if not caller.startswith("citizen"):
            return 302
        return allowed_status if int(caller[-1]) >= rule[1] else 302
    if caller in ROLES:
        return allowed_status if not rule[1] or caller in rule[1] else 403
    return 302


def sign_in(client, db, caller: str) -> None:
    if caller == "citizen_level1":
        login(client, HN_LEVEL1)
    elif caller == "citizen_level2":
        login(client, HN_LEVEL2)
    elif caller in ROLES:
        staff_login(client, caller)


def any_csrf_token(client) -> str:
    """A CSRF token for this client, read from the stand-in's login form."""
    from tests.web.oidc_support import _HIDDEN

    chooser = client.get(local(client.get("/auth/login").location))
    return dict(_HIDDEN.findall(chooser.get_data(as_text=True)))["csrf_token"]


class Status:
    """Just the status of a response (closed at once: static files hold an open file otherwise)."""

    def __init__(self, response):
        self.status_code = response.status_code
        response.close()


def call(client, key, path, token) -> Status:
    _, method = key
    if method == "GET":
        return Status(client.get(path))
    return Status(client.post(path, data={"csrf_token": token, **FORMS.get(key, {})}))


@pytest.fixture()
def public_statuses(app, db):
    """What an anonymous caller gets from each public route: every other caller must get the same."""
    seed_demo_staff(db, "http://localhost/dev-idp")
    officer = db.scalars(select(StaffAccount).where(StaffAccount.subject == "staff-finance-officer")).one().id
    client = app.test_client()
    token = any_csrf_token(client)
    statuses = {}
    for key, (path, rule, _) in MATRIX.items():
        if rule == PUBLIC and key != ("auth.logout", "POST"):
            statuses[key] = call(client, key, path.format(officer=officer), token).status_code
    return officer, statuses


@pytest.mark.parametrize("caller", CALLERS)
def test_each_caller_gets_the_expected_status_on_every_route(app, db, public_statuses, caller):
    officer, public = public_statuses
    client = app.test_client()
    sign_in(client, db, caller)
    token = any_csrf_token(client)
    for key, (path, rule, allowed_status) in MATRIX.items():
        response = call(client, key, path.format(officer=officer), token)
        want = expected_status(rule, caller, allowed_status)
        if want is None:
            want = public.get(key, allowed_status)
        assert response.status_code == want, (key, caller, response.status_code, want)
