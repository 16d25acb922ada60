"""``POST /api/v1/quotes``: a public price preview with its explanation; it reserves and stores nothing."""

from __future__ import annotations

from typing import Any

from citizen.api import ErrorSchema, api_blueprint
from citizen.api.quote_schemas import QuoteRequestSchema, QuoteSchema
from core.clock import SYSTEM_CLOCK
from subsidies.evaluator import Decision
from subsidies.explanation import summary
from subsidies.facts import QuoteRequest, check_request, decision_instant
from subsidies.quotes import preview
from web.database import db_session
from web.security import limiter

blp = api_blueprint("api_quotes", __name__, description="Price previews with their legal explanation")

#: Public and anonymous: generous for a person, tight enough to stop scraping the rule set by brute force.
QUOTE_RATE_LIMIT = "60 per minute"


@blp.route("", methods=["POST"])
@limiter.limit(QUOTE_RATE_LIMIT)
@blp.arguments(QuoteRequestSchema)
@blp.response(200, QuoteSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Unknown service_code (code unknown_service)")
@blp.alt_response(422, schema=ErrorSchema,
                  description="Invalid input (code invalid_input) or no base fee on that day (no_base_fee)")
@blp.alt_response(429, schema=ErrorSchema, description="Too many requests (code rate_limited)")
def create_quote_preview(data: dict[str, Any]):
    """Price a service for a citizen's facts on a day, with every rule considered and its legal basis."""
    request = quote_request_from(data)
    return decision_payload(preview(db_session(), request))


def quote_request_from(data: dict[str, Any]) -> QuoteRequest:
    """Build the domain request from validated API input (default decision time: now)."""
    when = data.pop("decision_date", None) or SYSTEM_CLOCK.now()
    request = QuoteRequest(decision_at=decision_instant(when), categories=frozenset(data.pop("categories", ())),
                           **{key: value for key, value in data.items() if value is not None})
    check_request(request)
    return request


def decision_payload(decision: Decision) -> dict[str, Any]:
    """The API's view of a decision."""
    return {
        "service_code": decision.request.service_code, "quantity": decision.request.quantity,
        "decision_date": decision.day, "currency": decision.currency, "base_amount": decision.base_amount,
        "amount_due": decision.amount_due, "rule_set_hash": decision.rule_set_hash,
        "summary": summary(decision), "explanation": decision.explanation,
    }
