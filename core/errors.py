"""The root of every domain error.

Domain errors carry a stable machine-readable ``code`` and a message that names its context; they know
nothing about HTTP. ``web/errors.py`` maps them to status codes in one table.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """An expected failure that a caller can act on; never a programming error."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}


class NotFound(DomainError):
    """The thing asked for does not exist, or the caller may not know that it does."""

    code = "not_found"


class Conflict(DomainError):
    """The request clashes with the current state of a record."""

    code = "conflict"


class ValidationFailed(DomainError):
    """Input that is well-formed but breaks a rule of the domain."""

    code = "validation_failed"


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""

    code = "permission_denied"


class InvalidTransition(Conflict):
    """A state change that the transition table does not allow."""

    code = "invalid_transition"
