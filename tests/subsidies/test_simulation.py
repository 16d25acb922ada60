"""Dry runs count changed cases, citizens and VND per rule, equal to a brute-force recomputation."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from core.clock import VIETNAM
from subsidies import quotes
from subsidies.compiler import CompiledRuleSet
from subsidies.evaluator import evaluate
from subsidies.facts import QuoteRequest, decision_instant
from subsidies.simulation import PastCase, simulate, simulate_cases
from subsidies.yaml_io import load_rule_files

SEED = load_rule_files()
PUBLISHED = CompiledRuleSet(r.definition for r in SEED if r.status == "published")
WITHOUT_HANOI = CompiledRuleSet(r.definition for r in SEED if r.status == "published"
                                and r.definition.rule_id != "HN-LLTP-VNEID")


def _cases(n: int):
    rnd = random.Random(7)
    for i in range(n):
        request = QuoteRequest(
            service_code="LLTP", channel=rnd.choice(["VNEID", "PORTAL", "COUNTER"]), quantity=rnd.choice([1, 3]),
            decision_at=decision_instant(date(2024, 6, 1) + timedelta(days=rnd.randint(0, 400))),
            birthdate=date(rnd.randint(1940, 2015), 1, 1), residence_province_code=rnd.choice(["01", "79"]),
            eid_level=rnd.choice([1, 2]), categories=frozenset(rnd.choice([(), (), ("STUDENT",)])))
        decision = evaluate(PUBLISHED, request)
        amounts = {s[0].rule_id: s[3] if s[0].layer == "base" else -s[3] for s in decision.steps if s[1] == "applied"}
        yield PastCase(f"q{i}", f"c{i % 150}", request, decision.amount_due, amounts)


def test_the_report_equals_a_brute_force_recomputation():
    cases = list(_cases(600))
    report = simulate_cases(WITHOUT_HANOI, cases)
    brute = [(c, evaluate(WITHOUT_HANOI, c.request).amount_due) for c in cases]
    changed = [(c, after) for c, after in brute if after != c.amount_due]
    assert report.changed == len(changed) > 0
    assert report.delta == sum(after - c.amount_due for c, after in changed)
    assert report.citizens_affected == len({c.citizen for c, _ in changed})
    assert report.per_rule["HN-LLTP-VNEID"].delta == report.delta
    assert report.per_rule["HN-LLTP-VNEID"].cases_changed == len(changed)
    assert len(report.examples) == 5


def test_the_same_rule_set_changes_nothing_and_reports_progress():
    seen = []
    report = simulate_cases(PUBLISHED, _cases(250), progress=seen.append, every=100)
    assert (report.cases, report.changed, report.delta) == (250, 0, 0)
    assert seen == [100, 200]


def test_simulating_over_stored_quotes(seeded, hanoi_request, clock):
    for _ in range(3):
        quotes.create_quote(seeded, hanoi_request(), citizen_ref="citizen-1", clock=clock)
    quotes.create_quote(seeded, hanoi_request(channel="PORTAL"), citizen_ref="citizen-2", clock=clock)
    report = simulate(seeded, WITHOUT_HANOI, date(2024, 7, 1), date(2024, 7, 1))
    assert (report.cases, report.changed, report.citizens_affected, report.delta) == (4, 3, 1, 600_000)
    assert report.to_dict()["per_rule"] == [{"rule_id": "HN-LLTP-VNEID", "cases_changed": 3, "delta": 600_000}]
    none = simulate(seeded, WITHOUT_HANOI, date(2024, 7, 2), date(2024, 7, 31))
    assert none.cases == 0
    assert datetime(2024, 7, 1, tzinfo=VIETNAM)  # the period is judged in Vietnam days
