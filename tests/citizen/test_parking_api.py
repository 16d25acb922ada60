"""``POST /api/v1/parking/events`` and ``GET /api/v1/parking/sessions/{id}`` for an operator's system."""

from __future__ import annotations

import pytest

from core.clock import SYSTEM_CLOCK
from parking.lots import seed_lots
from tests.citizen.agency_support import headers, make_client, seed_pricing


@pytest.fixture()
def operator_key(app, db):
    seed_pricing(db)
    seed_lots(db, clock=SYSTEM_CLOCK)
    _, key, _ = make_client(app, db, name="Hệ thống bãi xe Hàng Khay", agency_code="HN-PARKING",
                            scopes=("parking",))
    return key


def _event(event_id: str, kind: str, at: str, **changes) -> dict:
    body = {"event_id": event_id, "lot": "HK-HANG-KHAY", "type": kind, "at": at,
            "vehicle": {"plate": "29A-123.45", "class": "MOTORBIKE"},
            "credential": {"kind": "rfid", "value": "E2000017221101441890"}}
    body.update(changes)
    return body


def _send(client, key, body):
    return client.post("/api/v1/parking/events", json=body, headers=headers(key))


def test_an_exit_answers_the_priced_session_with_its_explanation(client, operator_key):
    opened = _send(client, operator_key, _event("g1-0001", "entry", "2026-12-07T08:00:00+07:00"))
    assert opened.status_code == 201 and opened.get_json()["status"] == "open"
    closed = _send(client, operator_key, _event("g1-0002", "exit", "2026-12-07T19:30:00+07:00"))
    body = closed.get_json()
    assert closed.status_code == 201 and body["id"] == opened.get_json()["id"]
    assert (body["status"], body["amount"], body["currency"], body["plate"]) == ("closed", 12000, "VND", "29A12345")
    assert [(s["unit"], s["band"], s["applied"]) for s in body["segments"]] == [
        ("turn", "DAY_NIGHT", ["PARK-HN-MOTORBIKE-DAY-NIGHT@1"])]
    again = client.get(f"/api/v1/parking/sessions/{body['id']}", headers=headers(operator_key))
    assert again.status_code == 200 and again.get_json()["amount"] == 12000


def test_a_retry_answers_200_and_a_changed_retry_409(client, operator_key):
    body = _event("g1-0003", "entry", "2026-12-07T08:00:00+07:00")
    assert _send(client, operator_key, body).status_code == 201
    again = _send(client, operator_key, body)
    assert again.status_code == 200 and again.get_json()["repeated"] is True
    changed = _send(client, operator_key, {**body, "at": "2026-12-07T08:01:00+07:00"})
    assert changed.status_code == 409 and changed.get_json()["code"] == "event_id_reused"


@pytest.mark.parametrize(("changes", "status", "code"), [
    ({"lot": "Q1-LE-LOI"}, 404, "lot_not_found"),
    ({"at": "2026-12-07T08:00:00"}, 422, "invalid_input"),
    ({"type": "enter"}, 422, "invalid_input"),
    ({"vehicle": {"plate": "29A-123.45", "class": "TRUCK"}}, 422, "invalid_input"),
    ({"at": "2099-01-01T08:00:00+07:00"}, 422, "parking_event_invalid"),
    ({"event_id": "not an id"}, 422, "invalid_input"),
])
def test_bad_events_are_refused_with_a_stable_code_and_nothing_written(client, operator_key, changes, status, code):
    body = {**_event("g1-0009", "entry", "2026-12-07T08:00:00+07:00"), **changes}
    answer = _send(client, operator_key, body)
    assert (answer.status_code, answer.get_json()["code"]) == (status, code)


def test_a_client_without_the_parking_scope_or_not_an_operator_is_refused(app, db, client, operator_key):
    _, agency_key, _ = make_client(app, db)  # an agency's client: read, create
    assert _send(client, agency_key, _event("g1-0010", "entry", "2026-12-07T08:00:00+07:00")).status_code == 403
    _, stranger, _ = make_client(app, db, agency_code="HN-STP", scopes=("parking",))
    refused = _send(client, stranger, _event("g1-0011", "entry", "2026-12-07T08:00:00+07:00"))
    assert (refused.status_code, refused.get_json()["code"]) == (403, "not_an_operator")
    assert client.post("/api/v1/parking/events", json={}).status_code == 401


def test_another_operators_session_is_not_found(app, db, client, operator_key):
    opened = _send(client, operator_key, _event("g1-0012", "entry", "2026-12-07T08:00:00+07:00")).get_json()
    _, other, _ = make_client(app, db, agency_code="HCM-PARKING", scopes=("parking",))
    answer = client.get(f"/api/v1/parking/sessions/{opened['id']}", headers=headers(other))
    assert (answer.status_code, answer.get_json()["code"]) == (404, "parking_session_not_found")


def test_a_vehicle_count_is_taken_once_and_bad_counts_are_refused(client, operator_key):
    body = {"count_id": "insp-0001", "lot": "HK-HANG-KHAY", "source": "inspector",
            "period_start": "2026-12-01T06:00:00+07:00", "period_end": "2026-12-01T18:00:00+07:00", "vehicles": 41}
    send = lambda changes: client.post("/api/v1/parking/counts", json={**body, **changes},  # noqa: E731
                                       headers=headers(operator_key))
    first, again = send({}), send({})
    assert (first.status_code, again.status_code, again.get_json()["repeated"]) == (201, 200, True)
    assert first.get_json()["vehicles"] == 41
    assert send({"vehicles": 42}).status_code == 409
    assert send({"count_id": "insp-2", "source": "guess"}).status_code == 422
    assert send({"count_id": "insp-3", "period_end": "2026-12-03T18:00:00+07:00"}).get_json()["code"] == (
        "parking_event_invalid")
    assert send({"count_id": "insp-4", "lot": "Q1-LE-LOI"}).status_code == 404
