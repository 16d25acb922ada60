"""Bills created per second through the agency API (Idempotency-Key, callback staged), next to the bare
price preview (``POST /api/v1/quotes``: same pricing, nothing stored) measured in the same run.

In-process (Flask test client, one thread, SQLite file) so it runs anywhere; interleaved rounds keep the
ratio meaningful on a noisy machine even when absolute numbers drift.
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
import time
from pathlib import Path

from agencies.clients import ClientSpec, register_client
from core.clock import SYSTEM_CLOCK
from core.migrations import upgrade
from core.settings import Settings
from gateway import create_app
from subsidies.seed import seed_catalogue, seed_rules

ROUNDS = 3
REQUESTS = 150
QUOTE = {"service_code": "LLTP", "quantity": 1, "channel": "PORTAL"}


def _setup(folder: str):
    url = f"sqlite:///{folder}/bench.db"
    upgrade(url)
    app = create_app(Settings.from_env({}, env="test", database_url=url, instance_path=folder,
                                       queue_url="memory://", secret_key="b" * 40, log_level="WARNING"))
    factory = app.extensions["gateway.db"].session_factory
    with factory() as session, session.begin():
        seed_catalogue(session)
        seed_rules(session)
        spec = ClientSpec(name="bench", agency_code="BENCH", service_codes=("LLTP",), scopes=("read", "create"),
                          callback_url="http://127.0.0.1:9/callbacks", return_url_domains=("bench.example.vn",),
                          rate_limit_per_minute=100_000)
        key = register_client(session, spec, keyring=app.extensions["gateway.runtime"].keyring, actor="bench",
                              clock=SYSTEM_CLOCK).api_key
    return app, key


def _rate(call, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        call()
    return count / (time.perf_counter() - started)


def run() -> dict[str, float]:
    """Measure and print; return the mean rates and their ratio."""
    serial = itertools.count(1)
    with tempfile.TemporaryDirectory() as folder:
        app, key = _setup(str(Path(folder)))
        client = app.test_client()

        def bill() -> None:
            n = next(serial)
            body = {**QUOTE, "personal_id_number": "001094012345", "agency_reference": f"B-{n}",
                    "return_url": "https://bench.example.vn/done"}
            response = client.post("/api/v1/bills", json=body,
                                   headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"bench-{n}"})
            assert response.status_code == 201, response.get_json()

        def quote() -> None:
            assert client.post("/api/v1/quotes", json=QUOTE).status_code == 200

        rates: dict[str, list[float]] = {"quote": [], "bill": []}
        for _ in range(ROUNDS):
            rates["quote"].append(_rate(quote, REQUESTS))
            rates["bill"].append(_rate(bill, REQUESTS))
        app.extensions["gateway.runtime"].dispose()
    quote_rate, bill_rate = statistics.mean(rates["quote"]), statistics.mean(rates["bill"])
    print(f"in-process, SQLite, {ROUNDS} interleaved rounds of {REQUESTS} requests")
    print(f"  {'POST /api/v1/quotes (baseline)':34} {quote_rate:8,.0f} req/s")
    print(f"  {'POST /api/v1/bills + key + callback':34} {bill_rate:8,.0f} req/s")
    print(f"  ratio bills / quotes: {bill_rate / quote_rate:.2f}")
    return {"quote_rps": quote_rate, "bill_rps": bill_rate, "ratio": bill_rate / quote_rate}


if __name__ == "__main__":
    run()
