"""The composition root's app factory: settings -> logging -> database -> security -> i18n -> jobs -> routes.

The only module that imports both the citizen app and the back office; the job worker is built from the
same runtime wiring (``web.runtime.build_runtime``).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

import web
from admin import agency_accounts as admin_agency_accounts
from admin import api_clients as admin_api_clients
from admin import finance
from admin import views as admin_views
from admin.policy import bp as policy_bp
from citizen import api
from citizen.views import (
    account,
    agency_links,
    auth,
    bills,
    demo_agency,
    dev_bank,
    devidp,
    fees,
    health,
    pages,
    parking,
    receipts,
    sandbox_pay,
    vietqr_pay,
    vnpay_sim,
    webhooks,
)
from core.migrations import pending_migrations
from core.settings import Settings
from web import database, errors, i18n, input_guard, security
from web.auth import current_principal
from web.database import commit_request_session
from web.identity_runtime import init_identity
from web.logs import configure_logging
from web.runtime import build_runtime


class StartupRefused(RuntimeError):
    """The app must not serve in this state; the message says what to do."""


class GatewayFlask(Flask):
    """Flask that commits the request's database session once, after the view succeeded."""

    def dispatch_request(self):
        response = super().dispatch_request()
        commit_request_session()
        return response


def create_app(config_override: Settings | Mapping[str, object] | None = None) -> GatewayFlask:
    """Build the gateway app; ``config_override`` is a ``Settings`` or a mapping of setting names."""
    settings = config_override if isinstance(config_override, Settings) else Settings.from_env(
        **dict(config_override or {}))
    configure_logging(settings.log_level, settings.secret_values())
    app = GatewayFlask(__name__, instance_path=str(settings.instance_path),
                       template_folder=str(web.ROOT / "templates"), static_folder=str(web.ROOT / "static"))
    app.config.update(SECRET_KEY=settings.secret_key, TESTING=settings.env == "test")
    app.extensions["gateway.settings"] = settings
    runtime = build_runtime(settings)
    if settings.production and pending_migrations(runtime.database.engine):
        runtime.dispose()
        raise StartupRefused("the database has pending migrations; run `python -m gateway migrate` first")
    app.extensions["gateway.runtime"] = runtime
    app.extensions["gateway.queue"] = runtime.queue
    database.init_app(app, runtime.database)
    security.init_app(app, settings)
    input_guard.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    _register_blueprints(app)
    return app


def _register_blueprints(app: Flask) -> None:
    """The citizen app's and the back office's blueprints, side by side on the one platform."""
    app.register_blueprint(health.bp)
    app.register_blueprint(pages.bp)
    # Templates may show who is logged in (auth/_account_nav.html); the session loads once per request.
    app.jinja_env.globals["current_principal"] = current_principal
    if init_identity(app, app.extensions["gateway.settings"]).dev_idp is not None:
        app.register_blueprint(devidp.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(admin_views.bp)
    api.init_app(app)
    app.register_blueprint(fees.bp)
    app.register_blueprint(finance.bp)
    app.register_blueprint(policy_bp)
    app.register_blueprint(admin_api_clients.bp)
    app.register_blueprint(admin_agency_accounts.bp)
    app.register_blueprint(agency_links.bp)
    if app.extensions["gateway.settings"].demo_agency_key:
        app.register_blueprint(demo_agency.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(sandbox_pay.bp)
    app.register_blueprint(vietqr_pay.bp)
    if app.extensions["gateway.runtime"].vnpay_simulator is not None:  # standing in for VNPay
        app.register_blueprint(vnpay_sim.bp)
    if "dev-bank" in app.extensions["gateway.runtime"].bank_connections:  # the built-in stand-in's feed
        app.register_blueprint(dev_bank.bp)
    app.register_blueprint(bills.bp)
    app.register_blueprint(parking.bp)
    app.register_blueprint(receipts.bp)
