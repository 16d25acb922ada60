"""Hostile input gets a 400 with a stable code on every route, never a 500 from deep in a handler."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.citizen.agency_support import make_client
from tests.web.oidc_support import HN_LEVEL2, login

#: Text holding at least one character no field may hold: NUL or a lone surrogate.
HOSTILE = st.builds(lambda before, bad, after: before + bad + after, st.text(max_size=8),
                    st.sampled_from(["\x00", "\ud800", "\udfff"]), st.text(max_size=8))


def _routes(app, method: str) -> list[str]:
    """Every rule's path with each argument left as a placeholder ``{name}``."""
    paths = []
    for rule in app.url_map.iter_rules():
        if method in rule.methods and not rule.rule.startswith("/static"):
            paths.append(rule.rule.replace("<", "{").replace(">", "}"))
    return sorted(set(paths))


def _fill(path: str, value: str) -> str:
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + quote(value.encode("utf-8", "surrogatepass"), safe="") + path[end + 1:]
    return path


@pytest.fixture()
def callers(app, db, client):
    login(client, HN_LEVEL2)
    _, key, _ = make_client(app, db)
    return client, {"Authorization": f"Bearer {key}"}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=HOSTILE)
def test_no_route_answers_500_to_nul_or_a_lone_surrogate_in_its_path_or_query(app, callers, value):
    client, api = callers
    for path in _routes(app, "GET"):
        url = _fill(path, value) + "?q=" + quote(value.encode("utf-8", "surrogatepass"), safe="")
        answer = client.get(url, headers=api if path.startswith("/api/") else {})
        assert answer.status_code != 500 and b"database_unavailable" not in answer.data, (path, answer.status_code)
        if "\x00" in value:  # a surrogate's bytes are not UTF-8: the URL decoder already replaces them
            assert answer.status_code == 400, (path, answer.status_code)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=HOSTILE)
def test_a_json_body_with_nul_or_a_lone_surrogate_is_refused_on_every_api_route(app, callers, value):
    client, api = callers
    body = json.dumps({"service_code": value, "agency_reference": value, "reason": value})
    for path in _routes(app, "POST"):
        if path.startswith(("/api/", "/webhooks/")):
            answer = client.post(_fill(path, "x"), data=body, content_type="application/json",
                                 headers={**api, "Idempotency-Key": "k-1"})
            assert answer.status_code == 400 and b"invalid_characters" in answer.data, path


@pytest.mark.parametrize("path", ["/api/v1/quotes", "/api/v1/bills"])
@pytest.mark.parametrize("depth", [65, 400, 900, 5000])  # 400 once ran the walk out of stack, the parser did not
def test_json_nested_too_deep_is_refused_as_too_deep(callers, path, depth):
    client, api = callers
    body = '{"a": ' * depth + "1" + "}" * depth
    answer = client.post(path, data=body, content_type="application/json",
                         headers={**api, "Idempotency-Key": "k-2"})
    assert (answer.status_code, answer.get_json()["code"]) == (400, "json_too_deep")


def test_json_nested_as_deep_as_allowed_reaches_the_route(callers):
    client, api = callers
    body = "[" * 63 + "1" + "]" * 63
    answer = client.post("/api/v1/quotes", data=body, content_type="application/json", headers=api)
    assert answer.get_json()["code"] == "invalid_input"  # the route's own schema refuses a list


def test_ordinary_vietnamese_text_passes_the_guard(callers):
    client, _ = callers
    answer = client.get("/fees/?q=" + quote("Phiếu lý lịch tư pháp"))
    assert answer.status_code != 400
