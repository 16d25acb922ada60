"""The payments services alone next to their SQL floor, the ratio ``bench.deployed_load`` ends with, by itself.

``python -m bench.services_floor`` serves ``bench/payments_app.py`` under gunicorn (4 sync workers, as
``deployed_load.floor_run``) on a fresh database of its own and loads ``/floor`` and ``/pay`` under wrk in
alternating rounds, printing each round's pair and ratio: the machine is shared, so only ratios measured
side by side mean something. About a minute instead of the deployed run's ten, for work on the services'
Python. ``BENCH_FLOOR_ROUNDS`` (default 4) and ``BENCH_FLOOR_SECONDS`` (default 8) set the rounds; the
database is ``GATEWAY_BENCH_DATABASE_URL`` (default postgresql://postgres@127.0.0.1:5432/bench_payments; it
is reset).
"""

from __future__ import annotations

import os
import statistics
import time

from bench.database import fresh_database
from bench.http import gunicorn, wrk
from bench.payments import LUA, post

ROUNDS = int(os.environ.get("BENCH_FLOOR_ROUNDS", "4"))
SECONDS = int(os.environ.get("BENCH_FLOOR_SECONDS", "8"))
WORKERS = 4
CONNECTIONS = 8


def _rate(base: str, path: str) -> float:
    result = wrk(base + path, seconds=SECONDS, connections=CONNECTIONS, script=LUA,
                 script_args=(f"{path[1:]}-{time.monotonic_ns()}",))
    if result["non_2xx"]:
        raise SystemExit(f"{path} answered {result['non_2xx']} errors")
    return result["rps"]


def run() -> list[tuple[float, float]]:
    """Alternate ``/floor`` and ``/pay`` for ROUNDS rounds; print and return each round's (floor, pay) rates."""
    url = fresh_database("bench_payments")
    rounds = []
    with gunicorn("bench.payments_app:app", workers=WORKERS, env={"BENCH_PAYMENTS_DB": url}) as base:
        assert post(base + "/pay", "warm-up", "k-warm-up")["status"] == "succeeded"  # creates the ledger accounts
        for number in range(ROUNDS):
            # Which goes first alternates, so a drift in the machine's load favours neither.
            first, second = ("/floor", "/pay") if number % 2 == 0 else ("/pay", "/floor")
            rates = {first: _rate(base, first), second: _rate(base, second)}
            rounds.append((rates["/floor"], rates["/pay"]))
            print(f"  round {number + 1}: floor {rates['/floor']:.0f}/s, services {rates['/pay']:.0f}/s, "
                  f"ratio {rates['/pay'] / rates['/floor']:.2f}")
    ratios = [pay / floor for floor, pay in rounds]
    print(f"gunicorn {WORKERS} sync workers, wrk {CONNECTIONS} connections, {ROUNDS} rounds of {SECONDS} s: "
          f"services / floor {statistics.mean(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}; "
          "goal >= 0.80)")
    return rounds


if __name__ == "__main__":
    run()
