"""Who calls the agency API: ``Authorization: Bearer <api key>``, a per-client rate limit, one audit row per call."""

from __future__ import annotations

import logging
import math
import time

from flask import Response, current_app, g, request
from flask_smorest import Blueprint
from limits import RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.exc import OperationalError

from agencies.clients import authenticate, require_scope
from agencies.errors import ApiKeyRejected
from agencies.models import ApiClient
from core.clock import SYSTEM_CLOCK
from identity import audit
from web.agency_runtime import keyring
from web.database import db_session
from web.errors import error_response
from web.security import limiter

log = logging.getLogger(__name__)

#: Rejected keys one address may send a minute. The per-client allowance cannot count a caller it does not
#: know, and a caller that keeps guessing keys is slowed down where it stands.
REJECTED_KEYS_PER_ADDRESS = RateLimitItemPerMinute(60)


def install(blp: Blueprint) -> None:
    """Authenticate every request of ``blp`` before anything else runs, and audit it afterwards.

    The client's own allowance replaces the pages' per-address limit: an operator's gate system or an
    agency's server is one address sending thousands of calls a minute (found by bench/parking_events.py:
    the per-address limit held one operator to 5 gate events a second).
    """
    limiter.exempt(blp)
    blp.before_request(_authenticate)
    blp.after_request(_audit)


def current_client() -> ApiClient:
    """The API client of this request (set by the blueprint's before_request)."""
    return g.api_client


def need(scope: str) -> ApiClient:
    """Return the client if it holds ``scope``; ScopeMissing (403) otherwise."""
    client = current_client()
    require_scope(client, scope)
    return client


def _authenticate() -> Response | None:
    header = request.headers.get("Authorization", "")
    key = header[7:].strip() if header[:7].lower() == "bearer " else None
    try:
        client = authenticate(db_session(), key, keyring=keyring(), clock=SYSTEM_CLOCK)
    except ApiKeyRejected:
        if current_app.config.get("GATEWAY_RATE_LIMITS", True):  # per address, so off with the pages' limits
            refused = _rate_limit(REJECTED_KEYS_PER_ADDRESS, "api-key-rejected", request.remote_addr or "unknown")
            if refused is not None:
                return refused
        raise
    g.api_client, g.api_client_id = client, client.id  # the id too: the audit must not reload a broken session
    return _rate_limit(RateLimitItemPerMinute(client.rate_limit_per_minute), "api-client", str(client.id))


def _limiters() -> tuple[MovingWindowRateLimiter, MovingWindowRateLimiter]:
    """The shared limiter (Redis in production) and this process's own, used while the shared one is down."""
    limiters = current_app.extensions.get("gateway.agency_limiter")
    if limiters is None:
        storage_url = current_app.extensions["gateway.settings"].ratelimit_storage_url
        limiters = current_app.extensions["gateway.agency_limiter"] = (
            MovingWindowRateLimiter(storage_from_string(storage_url, wrap_exceptions=True)),
            MovingWindowRateLimiter(storage_from_string("memory://")))
    return limiters


def _rate_limit(item: RateLimitItemPerMinute, *identifiers: str) -> Response | None:
    # Per client, not per address: an agency's servers share addresses with others behind a NAT.
    shared, own = _limiters()
    try:
        return _limit(shared, item, identifiers)
    except StorageError:  # the store is down (Redis stopped): count in this process until it is back
        log.warning("agency rate limit store unavailable; limiting in this process")
        return _limit(own, item, identifiers)


def _limit(strategy: MovingWindowRateLimiter, item: RateLimitItemPerMinute,
           identifiers: tuple[str, ...]) -> Response | None:
    if strategy.hit(item, *identifiers):
        return None
    reset = strategy.get_window_stats(item, *identifiers).reset_time
    response = error_response(429, "rate_limited", "Too many requests; retry after the number of seconds in "
                              "Retry-After.", {"limit_per_minute": item.amount})
    response.headers["Retry-After"] = str(max(1, math.ceil(reset - time.time())))
    return response


def _audit(response: Response) -> Response:
    client_id = g.get("api_client_id")
    if client_id is None:
        return response
    session = db_session()
    try:
        if response.status_code >= 400:
            session.rollback()  # the failed call's work is discarded; its audit row is kept
        audit.record(session, "api_call", actor=f"client:{client_id}", target=f"{request.method} {request.path}",
                     details={"status": response.status_code}, request_id=g.get("request_id"))
        session.commit()
    except OperationalError:  # the database went away after the answer was decided: that answer stands
        session.close()
        log.warning("api call not audited: database unavailable", extra={"status": response.status_code})
    return response
