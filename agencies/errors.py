"""Agency errors, each with a stable ``code``; ``web/errors.py`` maps them to HTTP."""

from __future__ import annotations

from core.errors import DomainError
from identity.errors import NotAuthenticated, RoleRequired


class AgencyError(DomainError):
    """Something about an agency's system or its registration is not acceptable."""

    code = "agency_error"


class ApiKeyRejected(NotAuthenticated):
    """An API key that is missing, unknown, expired or revoked, or whose client is disabled."""

    code = "api_key_invalid"


class ScopeMissing(RoleRequired):
    """The API client is not allowed this kind of call (scopes: read, create, refund)."""

    code = "scope_missing"


class ApiClientNotFound(AgencyError):
    """No API client (or API key) with that id."""

    code = "api_client_not_found"


class ApiClientInvalid(AgencyError):
    """An API client's registration breaks a rule (no services, an unknown scope, a bad URL)."""

    code = "api_client_invalid"


class AgencyAccountInvalid(AgencyError):
    """An agency's receiving account breaks a rule; ``details["field"]`` names the field at fault."""

    code = "agency_account_invalid"
