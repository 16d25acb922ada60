"""The agency bill API: authentication, scopes, ownership, idempotency, validation and cursor pagination."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from agencies.clients import MAX_CALLS_PER_MINUTE, revoke_key
from agencies.errors import ApiClientInvalid
from core.clock import SYSTEM_CLOCK
from identity.models import AuditEvent
from payments.models.billing import Bill
from subsidies.quotes import Quote
from tests.citizen.agency_support import bill_body, create, headers, make_client, seed_pricing
from tests.web.oidc_support import HN_LEVEL2, local, login
from web.security import limiter


@pytest.fixture()
def agency(app, db):
    seed_pricing(db)
    return make_client(app, db)


def test_creating_a_bill_returns_the_price_its_explanation_and_a_next_url(client, agency):
    _, key, _ = agency
    response = create(client, key)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert {"id", "status", "amount_due", "currency", "explanation", "next_url"} <= set(body)
    assert body["status"] == "open" and body["currency"] == "VND" and body["amount_due"] >= 0
    assert body["next_url"].startswith("http://localhost/pay/")
    assert body["payer_masked_id"] == "0010******45" and "001094012345" not in response.get_data(as_text=True)


def test_an_agency_bill_records_the_subsidies_quote_it_pinned(client, agency, db):
    _, key, _ = agency
    body = create(client, key).get_json()
    bill = db.scalars(select(Bill).where(Bill.public_id == body["id"])).one()
    assert bill.quote_id and db.get(Quote, bill.quote_id).status == "open"
    assert bill.explanation["quote_id"] == bill.quote_id


def test_the_same_idempotency_key_replays_and_a_different_body_is_409(client, agency, db):
    _, key, _ = agency
    first = create(client, key, "same-key", agency_reference="HS-A")
    again = create(client, key, "same-key", agency_reference="HS-A")
    assert (first.status_code, again.status_code) == (201, 201) and again.get_json() == first.get_json()
    other = create(client, key, "same-key", agency_reference="HS-B")
    assert other.status_code == 409 and other.get_json()["code"] == "idempotency_key_reused"
    assert db.scalar(select(func.count()).select_from(Bill).where(Bill.agency_reference.in_(["HS-A", "HS-B"]))) == 1


def test_a_missing_idempotency_key_is_refused(client, agency):
    _, key, _ = agency
    response = client.post("/api/v1/bills", json=bill_body(), headers=headers(key))
    assert response.status_code == 422 and response.get_json()["code"] == "idempotency_key_invalid"


@pytest.mark.parametrize("change, field", [
    ({"personal_id_number": "12345"}, "personal_id_number"),
    ({"personal_id_number": "00109401234x"}, "personal_id_number"),
    ({"quantity": "2"}, "quantity"),
    ({"colour": "blue"}, "colour"),
    ({"return_url": "not a url"}, "return_url"),
    ({"channel": "FAX"}, "channel"),
])
def test_bad_input_is_a_precise_422_and_changes_nothing(client, agency, db, change, field):
    _, key, _ = agency
    before = db.scalar(select(func.count()).select_from(Bill))
    response = create(client, key, **change)
    body = response.get_json()
    assert response.status_code == 422 and body["code"] == "invalid_input" and field in body["details"]["fields"]
    assert db.scalar(select(func.count()).select_from(Bill)) == before


def test_a_return_url_outside_the_registered_domains_is_refused(client, agency):
    _, key, _ = agency
    response = create(client, key, return_url="https://evil.example.com/x")
    assert response.status_code == 422 and response.get_json()["code"] == "return_url_not_allowed"


def test_a_service_the_client_may_not_bill_is_403(app, client, db, agency):
    _, key, _ = make_client(app, db, service_codes=("TLHT",))
    response = create(client, key)
    assert response.status_code == 403 and response.get_json()["code"] == "service_not_allowed"


@pytest.mark.parametrize("auth", [None, "Bearer nope", "Basic abc"])
def test_calls_without_a_valid_key_are_401(client, agency, auth):
    response = client.get("/api/v1/bills", headers={"Authorization": auth} if auth else {})
    assert response.status_code == 401 and response.get_json()["code"] == "api_key_invalid"


def test_a_revoked_key_gets_401_at_once(client, agency, db):
    api_client, key, _ = agency
    assert client.get("/api/v1/bills", headers=headers(key)).status_code == 200
    revoke_key(db, api_client.keys[0].id, actor="test", clock=SYSTEM_CLOCK)
    db.flush()
    assert client.get("/api/v1/bills", headers=headers(key)).status_code == 401


def test_scopes_are_enforced(app, client, db, agency):
    _, read_only, _ = make_client(app, db, scopes=("read",))
    response = create(client, read_only)
    assert response.status_code == 403 and response.get_json()["code"] == "scope_missing"
    _, key, _ = agency
    bill = create(client, key).get_json()
    refund = client.post(f"/api/v1/bills/{bill['id']}/refunds", headers=headers(read_only, "r-1"),
                         json={"amount": 1, "refund_amount_available": 1, "reason": "x"})
    assert refund.status_code == 403


def test_a_client_cannot_read_or_cancel_another_clients_bill(app, client, db, agency):
    _, key, _ = agency
    bill = create(client, key).get_json()
    _, other, _ = make_client(app, db, name="Other")
    for response in (client.get(f"/api/v1/bills/{bill['id']}", headers=headers(other)),
                     client.post(f"/api/v1/bills/{bill['id']}/cancel", headers=headers(other)),
                     client.get(f"/api/v1/bills/{bill['id']}/payments", headers=headers(other))):
        assert response.status_code == 404 and response.get_json()["code"] == "bill_not_found"
    assert client.get("/api/v1/bills", headers=headers(other)).get_json()["results"] == []


def test_the_same_agency_reference_from_another_client_of_the_agency_is_409(app, client, db, agency):
    _, key, _ = agency
    create(client, key, agency_reference="HS-SHARED")
    _, other, _ = make_client(app, db, name="Other desk")
    response = create(client, other, agency_reference="HS-SHARED")
    assert response.status_code == 409 and response.get_json()["code"] == "agency_reference_taken"


def test_get_cancel_payments_and_receipt(client, agency):
    _, key, _ = agency
    bill = create(client, key).get_json()
    got = client.get(f"/api/v1/bills/{bill['id']}", headers=headers(key)).get_json()
    assert got["id"] == bill["id"] and got["next_url"] != bill["next_url"]
    assert client.get(f"/api/v1/bills/{bill['id']}/payments", headers=headers(key)).get_json() == {"results": []}
    receipt = client.get(f"/api/v1/bills/{bill['id']}/receipt", headers=headers(key))
    assert receipt.status_code == 404 and receipt.get_json()["code"] == "receipt_not_found"
    cancelled = client.post(f"/api/v1/bills/{bill['id']}/cancel", headers=headers(key))
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert client.post(f"/api/v1/bills/{bill['id']}/cancel", headers=headers(key)).status_code == 200
    refund = client.post(f"/api/v1/bills/{bill['id']}/refunds", headers=headers(key, "r-2"),
                         json={"amount": 1, "refund_amount_available": 1, "reason": "x"})
    assert refund.status_code == 409 and refund.get_json()["code"] == "refund_not_allowed"


def test_the_list_pages_by_cursor_and_filters(client, agency):
    _, key, _ = agency
    made = [create(client, key).get_json()["id"] for _ in range(5)]
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/bills", query_string=query, headers=headers(key)).get_json()
        seen += [bill["id"] for bill in page["results"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
    cancelled = client.post(f"/api/v1/bills/{made[0]}/cancel", headers=headers(key)).get_json()
    page = client.get("/api/v1/bills", query_string={"status": "cancelled"}, headers=headers(key)).get_json()
    assert [bill["id"] for bill in page["results"]] == [cancelled["id"]]


@pytest.mark.parametrize("query, code", [({"cursor": "garbage"}, "invalid_cursor"), ({"limit": 0}, "invalid_input"),
                                         ({"sort": "x"}, "invalid_input")])
def test_bad_list_queries_are_422(client, agency, query, code):
    _, key, _ = agency
    response = client.get("/api/v1/bills", query_string=query, headers=headers(key))
    assert response.status_code == 422 and response.get_json()["code"] == code


def test_the_next_url_works_once(client, agency):
    _, key, _ = agency
    bill = create(client, key).get_json()
    path = bill["next_url"].removeprefix("http://localhost")
    first = client.get(path)
    assert first.status_code == 302 and "/auth/login" in first.location and bill["id"] in first.location
    assert client.get(path).status_code == 409


def test_every_call_is_attributed_to_its_client_in_the_audit_log(client, agency, db):
    api_client, key, _ = agency
    create(client, key, return_url="https://evil.example.com/")
    client.get("/api/v1/bills", headers=headers(key))
    rows = db.scalars(select(AuditEvent).where(AuditEvent.event == "api_call",
                                               AuditEvent.actor == f"client:{api_client.id}")).all()
    assert [(row.target, row.details["status"]) for row in rows] == [("POST /api/v1/bills", 422),
                                                                   ("GET /api/v1/bills", 200)]


def test_the_rate_limit_answers_429_with_retry_after(app, client, db, agency):
    _, key, _ = make_client(app, db, name="Tiny", rate_limit_per_minute=2)
    statuses = [client.get("/api/v1/bills", headers=headers(key)) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert int(statuses[-1].headers["Retry-After"]) >= 1 and statuses[-1].get_json()["code"] == "rate_limited"


def test_a_busy_client_is_held_to_its_own_allowance_not_to_the_per_address_limit(app, client, db, monkeypatch):
    # An operator's gate system is one address: the pages' 300 a minute per address held it to 5 events a
    # second (found by bench/parking_events.py).
    monkeypatch.setitem(app.config, "GATEWAY_RATE_LIMITS", True)
    limiter.reset()
    _, key, _ = make_client(app, db, name="Busy", rate_limit_per_minute=1_000)
    statuses = {client.get("/api/v1/bills?limit=1", headers=headers(key)).status_code for _ in range(310)}
    assert statuses == {200}


def test_an_address_that_keeps_sending_wrong_keys_is_slowed_down(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "GATEWAY_RATE_LIMITS", True)
    monkeypatch.delitem(app.extensions, "gateway.agency_limiter", raising=False)  # fresh counts
    guesses = [client.get("/api/v1/bills", headers=headers(f"gwk_guess{n}")) for n in range(61)]
    assert {r.status_code for r in guesses[:60]} == {401} and guesses[60].status_code == 429
    assert guesses[60].get_json()["code"] == "rate_limited" and int(guesses[60].headers["Retry-After"]) >= 1


def test_a_client_may_be_allowed_an_evening_peak_of_gate_events_but_not_without_bound(app, db):
    assert make_client(app, db, name="Gates", rate_limit_per_minute=2_000 * 60)[0].rate_limit_per_minute == 120_000
    with pytest.raises(ApiClientInvalid):
        make_client(app, db, name="Unbounded", rate_limit_per_minute=MAX_CALLS_PER_MINUTE + 1)


def test_the_openapi_document_lists_the_bill_api_and_the_docs_page_is_local(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/bills", "/api/v1/bills/{bill_id}", "/api/v1/bills/{bill_id}/refunds"} <= set(spec["paths"])
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "/static/js/api-docs.js" in page.get_data(as_text=True)
    assert "https://" not in page.get_data(as_text=True).split("<body")[1].split("api-docs")[0]


def test_a_whole_number_written_with_a_fraction_is_accepted(client, agency):
    _, key, _ = agency
    response = create(client, key, quantity=2.0)
    assert response.status_code == 201 and response.get_json()["quantity"] == 2


def test_the_next_url_leads_the_citizen_to_the_bills_pay_page_after_e_id_login(app, client, agency):
    _, key, _ = agency
    bill = create(client, key, personal_id_number="001085012345").get_json()
    browser = app.test_client()
    to_login = browser.get(bill["next_url"].removeprefix("http://localhost"))
    assert to_login.status_code == 302
    login(browser, HN_LEVEL2, start_path=local(to_login.location))
    page = browser.get(f"/bills/{bill['id']}")
    assert page.status_code == 200
