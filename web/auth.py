"""Who is asking: the server-side session behind the cookie, and the decorators every protected route uses.

``require_citizen(level)`` and ``require_role(*roles)`` mark a view with its access rule (read by the
role-by-route matrix test) and enforce it: no session -> login, a citizen session below the level ->
step-up, a staff session without any of the roles -> 403, and a citizen must have consented first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Response, abort, current_app, g, redirect, request, url_for

from identity.citizens import has_consented
from identity.errors import SessionExpired
from identity.levels import LEVEL_1
from identity.models import Citizen, StaffAccount, WebSession
from identity.sessions import load_session
from web.database import db_session
from web.errors import error_response, wants_json

F = TypeVar("F", bound=Callable[..., Any])


def cookie_name(base: str) -> str:
    """``__Host-`` cookies over https (pinned to our host, Secure, path /), plain names on http."""
    return f"__Host-{base}" if current_app.extensions["gateway.settings"].https else base


SESSION_COOKIE = "gw_sid"
FLOW_COOKIE = "gw_flow"


@dataclass(frozen=True)
class Principal:
    """The logged-in person of this request."""

    web_session: WebSession
    citizen: Citizen | None = None
    staff: StaffAccount | None = None

    @property
    def roles(self) -> set[str]:
        """Roles of a staff principal (empty for citizens and disabled accounts)."""
        return self.staff.role_names if self.staff is not None and self.staff.active else set()


def current_principal() -> Principal | None:
    """Return this request's principal, loading the session once per request."""
    if "principal" in g:
        return g.principal
    principal = None
    token = request.cookies.get(cookie_name(SESSION_COOKIE))
    try:
        row = load_session(db_session(), token)
    except SessionExpired:
        row = None
        g.session_expired = True
    if row is not None:
        session = db_session()
        principal = Principal(row, citizen=session.get(Citizen, row.citizen_id) if row.citizen_id else None,
                              staff=session.get(StaffAccount, row.staff_account_id) if row.staff_account_id else None)
    g.principal = principal
    return principal


def login_evidence() -> dict[str, Any] | None:
    """``iss``, ``sub``, ``acr`` and ``auth_time`` of this request's session, for a payment to record."""
    principal = current_principal()
    if principal is None:
        return None
    row = principal.web_session
    return {"iss": row.issuer, "sub": row.subject, "acr": row.acr, "eid_level": row.eid_level,
            "auth_time": row.auth_time}


def set_session_cookie(response: Response, token: str) -> None:
    """Give the browser its new session token (no max-age: it dies with the browser; the server times it out)."""
    https = current_app.extensions["gateway.settings"].https
    response.set_cookie(cookie_name(SESSION_COOKIE), token, httponly=True, secure=https, samesite="Lax", path="/")


def clear_session_cookie(response: Response) -> None:
    """Remove the session cookie."""
    response.delete_cookie(cookie_name(SESSION_COOKIE), path="/",
                           secure=current_app.extensions["gateway.settings"].https, samesite="Lax")


def _login_redirect(endpoint: str) -> Response:
    if wants_json():
        return error_response(401, "unauthenticated", "Please log in to continue.")
    return redirect(url_for(endpoint, next=request.full_path.rstrip("?")))


def require_citizen(level: int = LEVEL_1, *, consent: bool = True) -> Callable[[F], F]:
    """Allow only a logged-in citizen with e-ID ``level`` or more (and, by default, consent given)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None or principal.citizen is None:
                return _login_redirect("auth.login")
            if consent and not has_consented(principal.citizen):
                return redirect(url_for("account.consent", next=request.full_path.rstrip("?")))
            if principal.web_session.eid_level < level:
                return redirect(url_for("auth.step_up", next=request.full_path.rstrip("?"), level=level))
            return view(*args, **kwargs)

        wrapper.access_rule = ("citizen", level)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def require_role(*roles: str) -> Callable[[F], F]:
    """Allow only a logged-in staff member holding at least one of ``roles`` (none listed: any staff)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None or principal.staff is None:
                return _login_redirect("auth.staff_login")
            if not principal.staff.active or (roles and not principal.roles & set(roles)):
                abort(403)
            return view(*args, **kwargs)

        wrapper.access_rule = ("staff", tuple(roles))  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    """Mark a view as open to everyone (the matrix test still checks it)."""
    view.access_rule = ("public",)  # type: ignore[attr-defined]
    return view


def login_url(level: int = 0, next_path: str | None = None) -> str:
    """Return the citizen login URL for ``level``, coming back to ``next_path``."""
    params = {k: v for k, v in (("level", level or None), ("next", next_path)) if v}
    return url_for("auth.login") + (f"?{urlencode(params)}" if params else "")
