"""The one table from errors to HTTP: JSON ``{code, message, details}`` for the API, a page for people.

Domain errors carry their own stable ``code``; this table only decides the status. Anything unexpected
is a 500 with generic text and the request id, logged in full on our side and never shown to the client.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from agencies import errors as agency_errors
from core.errors import Conflict, DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from identity import errors as identity_errors
from parking import errors as parking_errors
from payments import errors as payment_errors
from subsidies import errors as subsidy_errors
from web.logs import request_id_var

log = logging.getLogger(__name__)

#: Domain error class -> HTTP status. The most specific class in an error's MRO wins.
ERROR_STATUS: dict[type[DomainError], int] = {
    DomainError: 400,
    ValidationFailed: 422,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    InvalidTransition: 409,
    subsidy_errors.SubsidyError: 400,
    subsidy_errors.RuleInvalid: 422,
    subsidy_errors.RequestInvalid: 422,
    subsidy_errors.UnknownService: 404,
    subsidy_errors.NoBaseFee: 422,
    subsidy_errors.NoPublishedRuleSet: 503,
    subsidy_errors.QuoteNotFound: 404,
    subsidy_errors.QuoteNotOpen: 409,
    subsidy_errors.FundUnknown: 404,
    subsidy_errors.WorkflowRefused: 409,
    subsidy_errors.AuthorCannotApprove: 403,
    subsidy_errors.RuleImmutable: 409,
    subsidy_errors.RegistryImportInvalid: 422,
    identity_errors.IdentityError: 400,
    identity_errors.LoginRejected: 400,
    identity_errors.ProviderUnavailable: 502,
    identity_errors.NotAuthenticated: 401,
    identity_errors.LevelTooLow: 403,
    identity_errors.RoleRequired: 403,
    identity_errors.ConsentRequired: 403,
    identity_errors.InvalidPersonalId: 422,
    identity_errors.InvalidEmail: 422,
    identity_errors.InvalidRole: 422,
    identity_errors.StaffNotFound: 404,
    identity_errors.RoleRequestNotFound: 404,
    identity_errors.RoleRequestDecided: 409,
    agency_errors.AgencyError: 400,
    agency_errors.ApiClientNotFound: 404,
    agency_errors.ApiClientInvalid: 422,
    agency_errors.AgencyAccountInvalid: 422,
    payment_errors.PaymentError: 400,
    payment_errors.LedgerError: 500,
    payment_errors.LedgerPeriodClosed: 409,
    payment_errors.NotificationRejected: 400,
    payment_errors.ProviderError: 502,
    payment_errors.ProviderUnavailable: 503,
    payment_errors.RefundAmountStale: 412,
    payment_errors.NoReceivingAccount: 409,
    parking_errors.ParkingError: 400,
    parking_errors.LotNotFound: 404,
    parking_errors.EventInvalid: 422,
    parking_errors.EventIdReused: 409,
    parking_errors.SessionNotFound: 404,
    parking_errors.PlateLinkedElsewhere: 409,
    parking_errors.VehicleInvalid: 422,
    parking_errors.SessionNotClaimable: 409,
    parking_errors.PassRefused: 422,
    parking_errors.PassNotFound: 404,
    parking_errors.DisputeNotFound: 404,
    parking_errors.DisputeInvalid: 422,
    parking_errors.DisputeAlreadyResolved: 409,
}

#: HTTP status -> stable code for errors raised by the web layer itself.
HTTP_CODES: dict[int, str] = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "invalid_input", 429: "rate_limited", 500: "internal_error",
    503: "unavailable",
}


def status_for(error: DomainError) -> int:
    """Return the HTTP status of a domain error from the table."""
    for cls in type(error).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return 400


def wants_json() -> bool:
    """True for API paths and for clients that prefer JSON to HTML."""
    if request.path.startswith(("/api/", "/healthz", "/readyz")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_response(status: int, code: str, message: str, details: dict | None = None) -> Response:
    """Render one error in the shape the client asked for."""
    request_id = request_id_var.get()
    if wants_json():
        body = {"code": code, "message": message, "details": details or {}, "request_id": request_id}
        response = jsonify(body)
    else:
        response = Response(_error_page(status=status, code=code, message=message, request_id=request_id))
    response.status_code = status
    return response


def _error_page(**context) -> str:
    try:
        return render_template("errors/error.html", **context)
    except SQLAlchemyError:  # the header asks the database who is logged in, and the database just went away
        _forget_database_work()
        return render_template("errors/error.html", **context)


def _forget_database_work() -> None:
    """Drop the request's session without touching its connection (it may be cut), and its principal."""
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.close()
        except SQLAlchemyError:  # its rollback met the cut: the pool replaces that connection
            session.invalidate()
    g.principal = None


def _domain(error: DomainError) -> Response:
    return error_response(status_for(error), error.code, error.message, error.details)


def _http(error: HTTPException) -> Response:
    status = error.code or 500
    response = error_response(status, HTTP_CODES.get(status, "http_error"), _http_message(status))
    for header in ("Allow", "Retry-After", "WWW-Authenticate"):
        if error.get_response().headers.get(header):
            response.headers[header] = error.get_response().headers[header]
    return response


def _http_message(status: int) -> str:
    messages = {
        400: _("The request could not be understood."),
        401: _("Please log in to continue."),
        403: _("You do not have permission to see this page."),
        404: _("We could not find that page."),
        405: _("This address does not accept that kind of request."),
        413: _("The request is too large."),
        429: _("Too many requests. Please wait a moment and try again."),
    }
    return messages.get(status, _("Something went wrong. Please try again."))


def _csrf(error: CSRFError) -> Response:
    return error_response(400, "csrf_failed", _("The form has expired or was not sent from this site. "
                                                "Please reload the page and try again."))


def _invalid_input(error: ValidationError) -> Response:
    return error_response(422, "invalid_input", _("Some of the data sent is not valid."),
                          {"fields": error.normalized_messages()})


def _database_unavailable(error: OperationalError) -> Response:
    # A cut connection, a failover, a server at its connection limit or a lock timeout: the transaction
    # rolled back, nothing was written, and the same request may simply be sent again.
    log.warning("database unavailable", extra={"path": request.path, "error_type": type(error.orig).__name__})
    # The request's session is broken (a cut connection cannot go on): drop it before anything reads through
    # it, and render the page as for a visitor, since the header's "who is logged in" needs the database.
    _forget_database_work()
    response = error_response(503, "database_unavailable",
                              _("The service is briefly unavailable. Please try again in a moment."))
    response.headers["Retry-After"] = "5"
    return response


def _unexpected(error: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.path})
    return error_response(500, "internal_error", _("Something went wrong on our side. Please try again later; "
                                                   "if it keeps happening, quote the request id."))


def init_app(app: Flask) -> None:
    """Register the handlers; the most specific handler for an exception wins."""
    app.register_error_handler(DomainError, _domain)
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(ValidationError, _invalid_input)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(Exception, _unexpected)
