"""Identity errors: one root, each subclass with a stable ``code``; ``web/errors.py`` maps them to HTTP."""

from __future__ import annotations

from core.errors import DomainError


class IdentityError(DomainError):
    """Something about who the caller is, or how they logged in, is not acceptable."""

    code = "identity_error"


class LoginRejected(IdentityError):
    """A login attempt was refused; ``reason`` says why in a stable, loggable word (never personal data)."""

    code = "login_rejected"

    def __init__(self, reason: str, message: str | None = None):
        super().__init__(message or f"login refused: {reason}", details={"reason": reason})
        self.reason = reason


class TokenRejected(LoginRejected):
    """An ID token, logout token or provider response failed verification."""

    code = "token_rejected"


class FlowRejected(LoginRejected):
    """The callback does not match a login this browser started (missing, unknown, expired or reused state)."""

    code = "login_flow_invalid"


class ProviderUnavailable(IdentityError):
    """The identity provider could not be reached or answered with something unusable."""

    code = "identity_provider_unavailable"


class NotAuthenticated(IdentityError):
    """No live session: the caller must log in."""

    code = "not_authenticated"


class SessionExpired(NotAuthenticated):
    """The session ended by idle or absolute timeout, or was revoked."""

    code = "session_expired"


class LevelTooLow(IdentityError):
    """The session's e-ID level is below what the service requires; a step-up login is needed."""

    code = "eid_level_too_low"


class RoleRequired(IdentityError):
    """The staff member lacks every role that the action accepts."""

    code = "role_required"


class InvalidPersonalId(IdentityError):
    """A personal identification number that is not exactly 12 digits."""

    code = "invalid_personal_id"


class InvalidRole(IdentityError):
    """A role name outside the closed list of staff roles."""

    code = "invalid_role"


class SelfGrant(RoleRequired):
    """Nobody proposes or approves a role for himself, and nobody approves his own proposal."""

    code = "role_self_grant"


class RoleRequestNotFound(IdentityError):
    """No role grant request with that id."""

    code = "role_request_not_found"


class RoleRequestDecided(IdentityError):
    """The role grant request was approved or rejected already."""

    code = "role_request_decided"


class StaffNotFound(IdentityError):
    """No staff account with that id."""

    code = "staff_not_found"


class ConsentRequired(IdentityError):
    """The citizen has not yet agreed to the current data-use notice."""

    code = "consent_required"


class InvalidEmail(IdentityError):
    """An e-mail address given for receipts and reminders is not one we can send to."""

    code = "email_invalid"
