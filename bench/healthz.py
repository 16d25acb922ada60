"""Request rate of GET /healthz through the whole gateway under gunicorn, next to a bare WSGI app.

Both run with the same gunicorn (2 sync workers) and are loaded by wrk in interleaved rounds in the same
run, so the ratio is meaningful on a shared, noisy machine even when absolute numbers drift.
"""

from __future__ import annotations

import statistics
import tempfile

from bench.http import gunicorn, wrk
from core.migrations import upgrade

ROUNDS = 3
SECONDS = 8


def run() -> dict[str, float]:
    """Measure and print; return the mean rates and their ratio."""
    with tempfile.TemporaryDirectory() as folder:
        env = {"GATEWAY_INSTANCE_PATH": folder, "GATEWAY_DATABASE_URL": f"sqlite:///{folder}/bench.db",
               "GATEWAY_LOG_LEVEL": "WARNING"}
        upgrade(env["GATEWAY_DATABASE_URL"])
        rates: dict[str, list[float]] = {"gateway": [], "bare": []}
        with gunicorn("wsgi:app", env=env) as gateway_url, gunicorn("bench.bare_wsgi:app") as bare_url:
            for _ in range(ROUNDS):
                for name, url in (("gateway", gateway_url), ("bare", bare_url)):
                    result = wrk(url + "/healthz", seconds=SECONDS)
                    if result["non_2xx"]:
                        raise SystemExit(f"{name} answered {result['non_2xx']} errors")
                    rates[name].append(result["rps"])
    gateway, bare = statistics.mean(rates["gateway"]), statistics.mean(rates["bare"])
    print("GET /healthz under gunicorn (2 sync workers), wrk 2 threads x 32 connections, "
          f"{ROUNDS} interleaved rounds of {SECONDS} s")
    print(f"  {'bare WSGI app (baseline)':28} {bare:10,.0f} req/s   rounds: {_fmt(rates['bare'])}")
    print(f"  {'gateway /healthz':28} {gateway:10,.0f} req/s   rounds: {_fmt(rates['gateway'])}")
    print(f"  ratio gateway / bare: {gateway / bare:.2f}")
    return {"gateway_rps": gateway, "bare_rps": bare, "ratio": gateway / bare}


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:,.0f}" for v in values)


if __name__ == "__main__":
    run()
