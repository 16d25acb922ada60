"""Rules engine speed: evaluations per second of the seed rule set with explanations, next to a hand-written
Python function for the same table and to zen-engine (static loader), measured in the same run; then a
dry run over 1,000,000 past cases. Every engine must agree with ours on every input before it is timed.

Run: ``python -m bench.rules [N]`` (default N = 100,000 judicial-record requests).
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from datetime import date
from itertools import cycle, islice

from subsidies.compiler import CompiledRuleSet
from subsidies.evaluator import evaluate
from subsidies.facts import QuoteRequest, decision_instant
from subsidies.simulation import PastCase, simulate_cases
from subsidies.yaml_io import load_rule_files

SEED = 20240601
EXEMPT = frozenset({"DISABILITY", "POOR_HOUSEHOLD", "DISADVANTAGED_COMMUNE"})
REDUCED = frozenset({"STUDENT", "MERITORIOUS", "MARTYR_RELATIVE"})
HANOI_WINDOW = (date(2024, 6, 1), date(2025, 12, 31))  # v1 and v2 of HN-LLTP-VNEID back to back


def make_requests(n: int) -> list[QuoteRequest]:
    """Seeded judicial-record requests that reach every rule of the table."""
    rnd = random.Random(SEED)
    categories = [()] * 12 + [(c,) for c in sorted(EXEMPT | REDUCED)]
    days = [date(2024, 3, 15), date(2024, 6, 1), date(2024, 12, 31), date(2025, 1, 1), date(2025, 7, 15),
            date(2026, 2, 1)]
    return [QuoteRequest(
        service_code="LLTP", decision_at=decision_instant(rnd.choice(days)), channel=rnd.choice(["VNEID", "PORTAL",
                                                                                               "COUNTER"]),
        quantity=rnd.choice([1, 1, 1, 2, 4, 15]), birthdate=rnd.choice([None, date(rnd.randint(1930, 2020), 5, 1)]),
        residence_province_code=rnd.choice(["01", "01", "79", "48"]), eid_level=rnd.choice([None, 1, 2, 2]),
        categories=frozenset(rnd.choice(categories))) for _ in range(n)]


def hand_written(request: QuoteRequest) -> int:
    """The same table as an if-chain: Circular 244/2016 and Hà Nội Resolution 11/2024 (+ 2025 extension)."""
    base = 200_000 + 5_000 * max(0, request.quantity - 2)
    age, cats = request.facts["age"], request.categories
    if (age is not None and (age < 16 or age >= 60)) or cats & EXEMPT:
        return 0
    if cats & REDUCED:
        return base - 100_000
    if (request.channel == "VNEID" and request.residence_province_code == "01" and request.code_list == "QD19/2025"
            and request.eid_level is not None and request.eid_level >= 2
            and HANOI_WINDOW[0] <= request.decision_day <= HANOI_WINDOW[1]):
        support = 200_000 + min(5_000 * max(0, request.quantity - 2), 50_000)
        return base - min(base, support)
    return base


def _zen_table(node_id: str, inputs: list[str], output: str, rows: list[tuple[dict, str]]) -> dict:
    return {"id": node_id, "type": "decisionTableNode", "name": node_id, "position": {"x": 0, "y": 0},
            "content": {"hitPolicy": "first", "passThrough": True, "inputField": None, "outputPath": None,
                        "executionMode": "single",
                        "inputs": [{"id": f"i_{f}", "name": f, "field": f} for f in inputs],
                        "outputs": [{"id": "o", "name": output, "field": output}],
                        "rules": [{"_id": f"{node_id}{i}", **{f"i_{f}": cells.get(f, "") for f in inputs}, "o": out}
                                  for i, (cells, out) in enumerate(rows)]}}


def zen_graph() -> dict:
    """Two first-hit tables (national, then local) with the rows of the seed rule set."""
    national = _zen_table("national", ["has_age", "age", "exempt_cat", "reduced_cat"], "national", [
        ({"has_age": "true", "age": "< 16"}, '"EXEMPT"'), ({"has_age": "true", "age": ">= 60"}, '"EXEMPT"'),
        ({"exempt_cat": "true"}, '"EXEMPT"'), ({"reduced_cat": "true"}, '"REDUCED"'), ({}, '"NONE"')])
    local = _zen_table("local", ["channel", "province", "code_list", "eid", "day", "national"], "hanoi", [
        ({"channel": '"VNEID"', "province": '"01"', "code_list": '"QD19/2025"', "eid": ">= 2",
          "day": "[20240601..20251231]", "national": '"NONE"'}, "true"), ({}, "false")])
    return {"contentType": "application/vnd.gorules.decision", "nodes": [
        {"id": "in", "type": "inputNode", "name": "in", "position": {"x": 0, "y": 0}}, national, local,
        {"id": "out", "type": "outputNode", "name": "out", "position": {"x": 0, "y": 0}}],
        "edges": [{"id": "a", "sourceId": "in", "targetId": "national", "type": "edge"},
                  {"id": "b", "sourceId": "national", "targetId": "local", "type": "edge"},
                  {"id": "c", "sourceId": "local", "targetId": "out", "type": "edge"}]}


def zen_evaluator() -> Callable[[QuoteRequest], int] | None:
    """zen-engine with a static loader (its fast path); the amounts are the same arithmetic as ours."""
    try:
        import zen
    except ImportError:
        return None
    engine = zen.ZenEngine({"loader": {"type": "static", "content": {"lltp": zen_graph()}}})

    def run(request: QuoteRequest) -> int:
        age, cats, day = request.facts["age"], request.categories, request.decision_day
        result = engine.evaluate("lltp", {
            "has_age": age is not None, "age": age, "exempt_cat": bool(cats & EXEMPT),
            "reduced_cat": bool(cats & REDUCED), "channel": request.channel,
            "province": request.residence_province_code, "code_list": request.code_list, "eid": request.eid_level,
            "day": day.year * 10_000 + day.month * 100 + day.day})["result"]
        base = 200_000 + 5_000 * max(0, request.quantity - 2)
        if result["national"] == "EXEMPT":
            return 0
        if result["national"] == "REDUCED":
            return base - 100_000
        if result["hanoi"]:
            return base - min(base, 200_000 + min(5_000 * max(0, request.quantity - 2), 50_000))
        return base

    return run


def _rate(function: Callable, inputs: list) -> float:
    started = time.perf_counter()
    for item in inputs:
        function(item)
    return len(inputs) / (time.perf_counter() - started)


def run(n: int = 100_000) -> None:
    """Print evaluations per second for each engine and the 1,000,000-case dry run."""
    rule_set = CompiledRuleSet(r.definition for r in load_rule_files() if r.status == "published")
    requests = make_requests(n)
    ours = [evaluate(rule_set, r).amount_due for r in requests]
    engines: dict[str, Callable] = {
        "hand-written Python if-chain (amount only)": hand_written,
        "our engine: evaluate() with the full trace": lambda r: evaluate(rule_set, r),
    }
    zen_run = zen_evaluator()
    if zen_run is not None:
        engines["zen-engine 2.x static loader (amount only)"] = zen_run
    else:
        print("zen-engine not installed (pip install zen-engine==2.1.3): skipped")
    for name, function in engines.items():
        if name.startswith(("hand", "zen")):
            mismatches = sum(function(r) != expected for r, expected in zip(requests, ours, strict=True))
            assert mismatches == 0, f"{name}: {mismatches} answers differ from the engine's"
        print(f"{name:<52} {_rate(function, requests):>12,.0f} eval/s")
    sample = requests[: max(1, n // 10)]
    print(f"{'our engine + explanation rendered (vi and en)':<52} "
          f"{_rate(lambda r: evaluate(rule_set, r).explanation, sample):>12,.0f} eval/s")
    _dry_run(rule_set, requests)


def _dry_run(rule_set: CompiledRuleSet, requests: list[QuoteRequest], total: int = 1_000_000) -> None:
    cases = []
    for i, request in enumerate(requests):  # what each case paid under the published rules
        decision = evaluate(rule_set, request)
        amounts = {s[0].rule_id: s[3] if s[0].layer_index == 0 else -s[3] for s in decision.steps if s[1] == "applied"}
        cases.append(PastCase(f"q{i}", f"c{i % 50_000}", request, decision.amount_due, amounts))
    without_hanoi = CompiledRuleSet(d for d in rule_set.definitions if d.rule_id != "HN-LLTP-VNEID")
    started = time.perf_counter()
    report = simulate_cases(without_hanoi, islice(cycle(cases), total))
    elapsed = time.perf_counter() - started
    print(f"dry run over {report.cases:,} past cases: {elapsed:.1f} s ({report.cases / elapsed:,.0f} cases/s), "
          f"{report.changed:,} changed")
    print(json.dumps({"goal_eval_per_s": 200_000, "goal_dry_run_s": 30}))


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
