"""The public REST API under ``/api/v1``, documented by flask-smorest (OpenAPI at ``/api/v1/openapi.json``).

Errors keep the gateway's one JSON shape (``code``, ``message``, ``details``, ``request_id``): the Api does
not install flask-smorest's own error handler, and input that fails a schema becomes a 422 with
``code = invalid_input`` and the messages per field under ``details.fields``.
"""

from __future__ import annotations

import marshmallow as ma
from apispec import BasePlugin
from flask import Flask, Response
from flask_babel import gettext as _
from flask_smorest import Api, Blueprint
from werkzeug.exceptions import UnprocessableEntity

from web.errors import error_response
from web.security import csrf

API_PREFIX = "/api/v1"


class ErrorSchema(ma.Schema):
    """The JSON body of every API error."""

    code = ma.fields.String(metadata={"description": "Stable machine-readable code, e.g. invalid_input"})
    message = ma.fields.String(metadata={"description": "What went wrong, for a person"})
    details = ma.fields.Dict(metadata={"description": "Context, e.g. messages per field under 'fields'"})
    request_id = ma.fields.String(metadata={"description": "Quote it when asking for help"})


class GatewayApi(Api):
    """flask-smorest's Api, minus its error handler: the gateway's error table stays the only one."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        """Leave HTTP errors to ``web.errors`` (one error shape for pages and API)."""

    def register_blueprint(self, blp: Blueprint, **options) -> None:
        """Register ``blp`` under /api/v1, exempt from CSRF (no cookies are used for the API)."""
        csrf.exempt(blp)
        super().register_blueprint(blp, **options)


class OperationIdPlugin(BasePlugin):
    """Name every operation after its view function, unless the view names it with ``@blp.doc``.

    Generated clients name their methods by operationId and OpenAPI links can point at one; flask-smorest
    sets none. View names are unique within a blueprint; a test checks them across the document.
    """

    def operation_helper(self, path=None, operations=None, *, rule=None, **kwargs) -> None:
        """Default each operation's operationId to the endpoint's function name."""
        if rule is None:
            return
        for operation in (operations or {}).values():
            operation.setdefault("operationId", rule.endpoint.rpartition(".")[2])


def api_blueprint(name: str, import_name: str, **options) -> Blueprint:
    """A flask-smorest blueprint whose schema errors answer in the gateway's error shape."""
    blp = Blueprint(name, import_name, **options)
    blp.register_error_handler(UnprocessableEntity, _invalid_input)
    return blp


def _invalid_input(error: UnprocessableEntity) -> Response:
    # webargs puts marshmallow's messages, keyed by location ("json"), into error.data.
    messages = (getattr(error, "data", None) or {}).get("messages", {})
    fields = messages.get("json", messages) if isinstance(messages, dict) else messages
    return error_response(422, "invalid_input", _("Some of the data sent is not valid."), {"fields": fields})


API_DESCRIPTION = (
    "The agency API of the city payment gateway. Errors share one JSON shape (code, message, details, "
    "request_id). Text anywhere in a request (path, query, body) never contains U+0000 (NUL) or a lone "
    "surrogate, and JSON bodies are nested at most a few hundred levels: such requests are answered 400 "
    "`invalid_characters` or `json_too_deep` before any operation runs."
)


def init_app(app: Flask) -> GatewayApi:
    """Configure the OpenAPI document and register every API blueprint (one Api per app)."""
    from citizen.api import bills, docs, parking, parking_disputes, quotes

    app.config.update(
        API_TITLE="City payment gateway API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={"info": {"description": API_DESCRIPTION}},
    )
    api = GatewayApi(app, spec_kwargs={"extra_plugins": [OperationIdPlugin()]})
    api.register_blueprint(quotes.blp, url_prefix=f"{API_PREFIX}/quotes")
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                        "description": "An API client's key"})
    api.register_blueprint(bills.blp, url_prefix=f"{API_PREFIX}/bills")
    api.register_blueprint(parking.blp, url_prefix=f"{API_PREFIX}/parking")
    api.register_blueprint(parking_disputes.blp, url_prefix=f"{API_PREFIX}/parking/disputes")
    app.register_blueprint(docs.bp)
    app.extensions["gateway.api"] = api
    return api
