"""POST /api/v1/quotes: strict input, the explanation with legal bases, no side effects, OpenAPI."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from subsidies.budgets import Fund
from subsidies.quotes import Quote
from subsidies.seed import seed_catalogue, seed_rules

HANOI = {"service_code": "LLTP", "quantity": 1, "channel": "VNEID", "decision_date": "2024-07-01",
         "birthdate": "1994-03-01", "residence_province_code": "01", "eid_level": 2}


@pytest.fixture()
def seeded_client(client, db):
    seed_catalogue(db)
    seed_rules(db)
    return client


def _post(client, body):
    return client.post("/api/v1/quotes", json=body)


def test_a_hanoi_vneid_request_pays_nothing_with_both_legal_bases(seeded_client, db):
    response = _post(seeded_client, HANOI)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["amount_due"], body["base_amount"], body["currency"]) == (0, 200_000, "VND")
    assert len(body["rule_set_hash"]) == 64
    applied = [e for layer in body["explanation"] for e in layer["entries"] if e["applied"]]
    assert [(e["rule_id"], e["version"], e["amount"]) for e in applied] == [("LLTP-BASE", 1, 200_000),
                                                                            ("HN-LLTP-VNEID", 1, -200_000)]
    assert {b["doc"] for e in applied for b in e["legal_basis"]} == {"244/2016/TT-BTC", "11/2024/NQ-HĐND"}
    assert body["summary"]["vi"] and body["summary"]["en"]


def test_a_preview_reserves_and_stores_nothing(seeded_client, db):
    _post(seeded_client, HANOI)
    assert db.scalar(select(func.count()).select_from(Quote)) == 0
    assert db.get(Fund, "HN-LLTP-2024").reserved == 0


@pytest.mark.parametrize(("change", "amount"), [
    ({"eid_level": 1}, 200_000), ({"residence_province_code": "79"}, 200_000), ({"channel": "PORTAL"}, 200_000),
    ({"categories": ["STUDENT"]}, 100_000), ({"quantity": 4, "channel": "COUNTER"}, 210_000),
    ({"decision_date": "2024-12-31T23:59:00+07:00"}, 0),
])
def test_the_must_show_cases_through_the_api(seeded_client, change, amount):
    assert _post(seeded_client, {**HANOI, **change}).get_json()["amount_due"] == amount


@pytest.mark.parametrize(("change", "field"), [
    ({"colour": "red"}, "colour"),
    ({"channel": "FAX"}, "channel"),
    ({"quantity": 0}, "quantity"),
    ({"quantity": "2"}, "quantity"),
    ({"eid_level": 3}, "eid_level"),
    ({"categories": ["ASTRONAUT"]}, "categories"),
    ({"decision_date": "2024-12-31T23:59:00"}, "decision_date"),
    ({"decision_date": "yesterday"}, "decision_date"),
    ({"residence_province_code": "1"}, "residence_province_code"),
    ({"birthdate": "01/03/1994"}, "birthdate"),
])
def test_invalid_input_is_a_422_naming_the_field(seeded_client, change, field):
    response = _post(seeded_client, {**HANOI, **change})
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "invalid_input"
    assert field in body["details"]["fields"]


def test_a_birthdate_after_the_decision_date_is_a_422(seeded_client):
    response = _post(seeded_client, {**HANOI, "birthdate": "2030-01-01"})
    assert (response.status_code, response.get_json()["code"]) == (422, "quote_request_invalid")


def test_a_missing_service_code_is_a_422(seeded_client):
    body = _post(seeded_client, {"channel": "VNEID"}).get_json()
    assert body["code"] == "invalid_input" and "service_code" in body["details"]["fields"]


def test_an_unknown_service_is_a_404_with_a_stable_code(seeded_client):
    response = _post(seeded_client, {**HANOI, "service_code": "NOPE"})
    assert (response.status_code, response.get_json()["code"]) == (404, "unknown_service")


def test_a_day_before_any_base_fee_is_a_422_not_a_500(seeded_client):
    response = _post(seeded_client, {**HANOI, "decision_date": "2010-01-01"})
    assert (response.status_code, response.get_json()["code"]) == (422, "no_base_fee")


def test_a_body_that_is_not_json_is_refused_cleanly(seeded_client):
    response = seeded_client.post("/api/v1/quotes", data="service_code=LLTP",
                                  content_type="application/x-www-form-urlencoded")
    assert (response.status_code, response.get_json()["code"]) == (422, "invalid_input")  # the JSON body is missing


def test_the_api_needs_no_csrf_token_and_no_login(app, seeded_client):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    assert _post(seeded_client, HANOI).status_code == 200


def test_the_openapi_document_describes_the_quote_endpoint(seeded_client):
    spec = seeded_client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/quotes"]["post"]
    assert "422" in operation["responses"] and "200" in operation["responses"]
    assert "QuoteRequest" in spec["components"]["schemas"]
