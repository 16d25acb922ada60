"""The served OpenAPI document: valid for an independent validator, and enough for a generated client.

openapi-spec-validator shares no code with apispec/flask-smorest, which write the document; the client is
what openapi-python-client generates from the served document, driven against the app with nothing but
the document's names (operationIds, schemas, parameters), as an agency's developer would.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections import Counter

import httpx
import pytest
from openapi_spec_validator import validate

from tests.citizen.agency_support import bill_body, make_client, seed_pricing

DOCUMENT_URL = "/api/v1/openapi.json"
PACKAGE = "generated_gateway_client"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [(path, method, operation) for path, item in spec["paths"].items()
            for method, operation in item.items() if method in METHODS]


@pytest.fixture()
def spec(client) -> dict:
    response = client.get(DOCUMENT_URL)
    assert response.status_code == 200
    return response.get_json()


def test_the_served_document_is_valid_openapi(spec):
    assert spec["openapi"].startswith("3.")
    validate(spec)  # raises OpenAPIValidationError with the path of the first invalid part


def test_every_operation_has_a_unique_operation_id_and_every_response_a_description(spec):
    ids = Counter(operation.get("operationId") for _, _, operation in _operations(spec))
    assert None not in ids and [name for name, count in ids.items() if count > 1] == []
    responses = [response for _, _, operation in _operations(spec) for response in operation["responses"].values()]
    assert all("description" in response or "$ref" in response for response in responses)


def test_a_created_bill_documents_its_body_and_links_to_operations_of_the_document(spec):
    created = spec["paths"]["/api/v1/bills"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Bill"}
    ids = {operation["operationId"]: path for path, _, operation in _operations(spec)}
    targets = {link["operationId"] for link in created["links"].values()}
    assert targets == {"get_bill", "cancel_bill", "list_payments", "get_vietqr"}
    assert all("{bill_id}" in ids[t] for t in targets)


@pytest.fixture(scope="module")
def generated(app, tmp_path_factory):
    """The package openapi-python-client generates from the served document, imported."""
    folder = tmp_path_factory.mktemp("generated")
    document, config = folder / "openapi.json", folder / "config.yaml"
    document.write_text(json.dumps(app.test_client().get(DOCUMENT_URL).get_json()))
    config.write_text("post_hooks: []\n")  # no ruff run over generated code (nor a need for it on PATH)
    result = subprocess.run([sys.executable, "-m", "openapi_python_client", "generate", "--path", str(document),
                             "--config", str(config), "--meta", "none", "--output-path", str(folder / PACKAGE),
                             "--fail-on-warning"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(folder))
    try:
        yield lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.partition(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.fixture()
def api(app, db, generated):
    """Call the generated client's operations against the app, as an agency with a registered key."""
    seed_pricing(db)
    _, key, _ = make_client(app, db)
    client = generated("client").AuthenticatedClient(
        base_url="http://localhost", token=key, httpx_args={"transport": httpx.WSGITransport(app=app)})

    def call(operation_id: str, **arguments):
        return generated(f"api.api_bills.{operation_id}").sync_detailed(client=client, **arguments)

    return call


def test_a_client_generated_from_the_document_creates_reads_lists_and_cancels_a_bill(api, generated):
    models = generated("models")
    body = models.BillCreate.from_dict(bill_body())
    created = api("create_bill", body=body, idempotency_key="gen-client-1")
    assert created.status_code == 201 and isinstance(created.parsed, models.Bill), created.content
    bill = created.parsed
    assert bill.status == "open" and bill.agency_reference == body.agency_reference
    again = api("create_bill", body=body, idempotency_key="gen-client-1")
    assert again.status_code == 201 and again.parsed.id == bill.id
    assert api("get_bill", bill_id=bill.id).parsed.id == bill.id
    page = api("list_bills", agency_reference=body.agency_reference).parsed
    assert isinstance(page, models.BillPage) and [found.id for found in page.results] == [bill.id]
    assert api("list_payments", bill_id=bill.id).parsed.results == []
    assert api("cancel_bill", bill_id=bill.id).parsed.status == "cancelled"


def test_the_generated_client_reads_errors_in_the_documented_shape(api, generated):
    missing = api("get_bill", bill_id="0" * 32)
    assert missing.status_code == 404 and isinstance(missing.parsed, generated("models").Error)
    assert missing.parsed.code == "bill_not_found"
    refused = api("create_bill", body=generated("models").BillCreate.from_dict(bill_body()), idempotency_key="bad key")
    assert refused.status_code == 422 and refused.parsed.code == "idempotency_key_invalid"
