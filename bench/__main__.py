"""Run every benchmark in turn: ``python -m bench`` (or ``make bench``)."""

from importlib import import_module

#: Benchmark modules, each with a ``run()`` that prints its numbers beside an in-run baseline.
BENCHMARKS = ("bench.healthz", "bench.oidc", "bench.rules", "bench.recon", "bench.reports", "bench.agency_api",
              "bench.payments", "bench.parking_events", "bench.deployed_load")

for name in BENCHMARKS:
    print(f"== {name}")
    import_module(name).run()
    print()
