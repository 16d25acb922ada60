"""The error table: domain errors become stable JSON for the API and a friendly page for people."""

import pytest
from flask import Blueprint
from marshmallow import Schema, fields

from core.errors import Conflict, DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from web.errors import status_for


@pytest.mark.parametrize(("error", "status"), [
    (NotFound("x"), 404), (PermissionDenied("x"), 403), (Conflict("x"), 409), (InvalidTransition("x"), 409),
    (ValidationFailed("x"), 422), (DomainError("x"), 400),
])
def test_each_domain_error_class_has_its_status(error, status):
    assert status_for(error) == status


class _Amount(Schema):
    amount = fields.Integer(required=True, strict=True)


@pytest.fixture(scope="module")
def failing_client(make_app):
    """A client of an app with routes that raise."""
    app = make_app()
    bp = Blueprint("failing", __name__)

    @bp.get("/api/v1/_test/missing")
    def missing():
        raise NotFound("bill B-1 does not exist", code="bill_not_found", details={"bill": "B-1"})

    @bp.post("/api/v1/_test/validate")
    def validate():
        from flask import request
        _Amount().load(request.get_json())
        return {}

    @bp.get("/_test/boom")
    def boom():
        raise RuntimeError("secret internals /etc/passwd")

    app.register_blueprint(bp)
    return app.test_client()


def test_api_errors_have_one_json_shape(failing_client):
    response = failing_client.get("/api/v1/_test/missing")
    assert response.status_code == 404
    body = response.json
    assert body["code"] == "bill_not_found"
    assert body["message"] == "bill B-1 does not exist"
    assert body["details"] == {"bill": "B-1"}
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_invalid_input_is_a_422_naming_the_fields(failing_client):
    response = failing_client.post("/api/v1/_test/validate", json={"amount": "a lot", "extra": 1})
    assert response.status_code == 422
    assert response.json["code"] == "invalid_input"
    assert set(response.json["details"]["fields"]) == {"amount", "extra"}


def test_an_unexpected_error_is_a_500_without_internals(failing_client):
    response = failing_client.get("/_test/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert response.json["code"] == "internal_error"
    assert "passwd" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_people_get_a_friendly_page_in_their_language(failing_client):
    response = failing_client.get("/_test/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "Hệ thống gặp sự cố" in page and "internal_error" in page and "passwd" not in page


def test_unknown_pages_and_methods_use_stable_codes(client):
    assert client.get("/api/v1/nothing-here").json["code"] == "not_found"
    response = client.post("/healthz")
    assert response.status_code == 405 and response.json["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]
