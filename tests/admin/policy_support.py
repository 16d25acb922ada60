"""Helpers for the policy back-office tests: the editor's form as a browser posts it, and stored quotes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from core.clock import VIETNAM
from subsidies.facts import QuoteRequest, decision_instant
from subsidies.quotes import create_quote


def draft_form(token: str, start: date, **changes: str) -> dict[str, object]:
    """The editor's form for Hà Nội paying the LLTP fee via VNeID from ``start`` for a year, as posted."""
    form: dict[str, object] = {
        "csrf_token": token, "rule_id": "HN-LLTP-VNEID", "service": "LLTP", "layer": "local", "priority": "0",
        "hit_policy": "first", "title_vi": "Hà Nội hỗ trợ phí LLTP qua VNeID (gia hạn)",
        "title_en": "Hà Nội pays the LLTP fee via VNeID (extended)",
        "effective_from": start.isoformat(), "effective_to": (start + timedelta(days=365)).isoformat(),
        "unless_layer_applied": "national", "budget_fund": "",
        "legal_basis-0-doc": "99/2026/NQ-HĐND (example)", "legal_basis-0-issuer": "HĐND thành phố Hà Nội",
        "legal_basis-0-date": "2026-01-15", "legal_basis-0-article": "Điều 1",
        "conditions-0-field": "channel", "conditions-0-op": "eq", "conditions-0-choices": "VNEID",
        "conditions-1-field": "residence.province_code", "conditions-1-op": "eq", "conditions-1-value": "01",
        "conditions-1-code_list": "QD19/2025",
        "conditions-2-field": "eid_level", "conditions-2-op": "ge", "conditions-2-value": "2",
        "effects-0-type": "amount_off", "effects-0-amount": "200000",
        "tests-0-name": "level-2 Hà Nội resident pays nothing", "tests-0-decision_date": start.isoformat(),
        "tests-0-channel": "VNEID", "tests-0-quantity": "1", "tests-0-birthdate": "1990-01-01",
        "tests-0-residence_province_code": "01", "tests-0-eid_level": "2", "tests-0-amount_due": "0",
    }
    form.update(changes)
    return form


def hanoi_quote(session, day: date, citizen: str = "citizen-1"):
    """Store a quote for a level-2 Hà Nội resident applying through VNeID on ``day`` (past data to simulate on)."""
    request = QuoteRequest(service_code="LLTP", decision_at=decision_instant(datetime.combine(day, time(10), VIETNAM)),
                           channel="VNEID", quantity=1, birthdate=date(1990, 1, 1), residence_province_code="01",
                           eid_level=2)
    return create_quote(session, request, citizen_ref=citizen)
