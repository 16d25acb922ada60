"""The agency API keeps answering while the rate-limit store (Redis) is down, as README's fault table says:
limits fall back to each process's memory.

Found by the crash matrix (tests/deployed/test_crash_matrix.py, the Redis row): pages fell back already,
but the API's own per-client limiter raised the Redis error and every API call was a 500 until Redis was
back.
"""

from __future__ import annotations

from dataclasses import replace

from tests.citizen.agency_support import headers, make_client, seed_pricing

NOWHERE = "redis://127.0.0.1:1/0"  # nothing listens there: connection refused, as with Redis stopped


def test_api_calls_are_answered_and_still_limited_while_the_rate_limit_store_is_down(app, client, db, monkeypatch):
    seed_pricing(db)
    _, key, _ = make_client(app, db, name="Tiny", rate_limit_per_minute=2)
    monkeypatch.setitem(app.extensions, "gateway.settings",
                        replace(app.extensions["gateway.settings"], ratelimit_storage_url=NOWHERE))
    monkeypatch.delitem(app.extensions, "gateway.agency_limiter", raising=False)  # built again from the URL
    statuses = [client.get("/api/v1/bills", headers=headers(key)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
