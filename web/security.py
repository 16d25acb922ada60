"""Web security policy: headers, CSRF, cookies, rate limits, proxies and safe redirects."""

from __future__ import annotations

import logging
import re
import secrets
import time
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from core.settings import Settings
from web.logs import request_id_var

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=["300 per minute"], headers_enabled=True)
access_log = logging.getLogger("gateway.access")

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
])
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def init_app(app: Flask, settings: Settings) -> None:
    """Apply the cookie policy, CSRF, rate limits, proxy trust, request ids and security headers."""
    app.config.update(
        SESSION_COOKIE_SECURE=settings.https,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # The __Host- prefix pins the cookie to our host and path, but browsers accept it only over https.
        SESSION_COOKIE_NAME="__Host-session" if settings.https else "session",
        WTF_CSRF_SSL_STRICT=settings.https,
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_url,
        # Always on for flask-limiter, whose switch lives on the one shared Limiter (last app wins);
        # each app's own setting is read per request by _limits_off_for_this_app.
        RATELIMIT_ENABLED=True,
        GATEWAY_RATE_LIMITS=settings.env != "test",
        # With the shared store (Redis) down, each process limits from its own memory until it is back,
        # and a failing check lets the request through (logged): a limiter must not take the site down.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        MAX_CONTENT_LENGTH=10 * 1024 * 1024,
        # CSRF is checked in _protect_forms, so machine endpoints can be left out by path in one place.
        WTF_CSRF_CHECK_DEFAULT=False,
    )
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
    app.before_request(_start_request)
    csrf.init_app(app)
    app.before_request(_protect_forms)
    limiter.init_app(app)
    app.after_request(_finish_request)


@limiter.request_filter
def _limits_off_for_this_app() -> bool:
    # One Limiter serves every app in the process because the route decorators need it at import time;
    # a process that builds several apps (the test suite) must still limit only the apps that ask for it.
    return not current_app.config.get("GATEWAY_RATE_LIMITS", True)


def _start_request() -> None:
    # Trust a caller's request id only if it looks like one: it ends up in every log line.
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else secrets.token_hex(16)
    g.request_started = time.perf_counter()
    request_id_var.set(g.request_id)


#: Paths that never authenticate with the session cookie (API keys, provider signatures), so CSRF cannot apply.
CSRF_FREE_PREFIXES = ("/api/", "/webhooks/",
                      # OpenID back channels: client authentication or a signed logout token instead of a cookie.
                      "/dev-idp/token", "/dev-idp/userinfo",
                      "/auth/backchannel-logout", "/auth/staff/backchannel-logout",
                      # The VNPay simulator's merchant API: signed JSON, as VNPay's own.
                      "/vnpay-sim/merchant_webapi/")


def _protect_forms() -> None:
    # Only state-changing requests to routes that exist: a POST to a GET-only URL stays a 405.
    if request.method in ("GET", "HEAD", "OPTIONS", "TRACE") or request.routing_exception is not None:
        return
    if not request.path.startswith(CSRF_FREE_PREFIXES):
        csrf.protect()


def _finish_request(response: Response) -> Response:
    headers = response.headers
    headers["X-Request-ID"] = g.get("request_id", "")
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if not request.path.startswith("/static/"):
        # Pages may show personal data: never keep them in a shared or back-button cache.
        headers.setdefault("Cache-Control", "no-store")
    _log_request(response)
    return response


def _log_request(response: Response) -> None:
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
    # The query string is left out on purpose: it can carry codes and tokens.
    access_log.info("request", extra={"method": request.method, "path": request.path,
                                      "status": response.status_code, "duration_ms": duration_ms})


def safe_next(target: str | None, default: str = "/") -> str:
    """Return ``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return default
    return target
