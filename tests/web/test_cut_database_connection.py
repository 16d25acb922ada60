"""A database connection cut in the middle of a request (pg_terminate_backend, a failover) answers 503 with
Retry-After, as README's fault table says, never 500.

Found by the crash matrix (tests/deployed/test_crash_matrix.py, the ``pg_terminate_backend`` row): the 503
page's header asked the request's broken session who is logged in, and the agency API's audit step read its
client through it, so the answer became a 500 (gunicorn's own, for pages).
"""

from __future__ import annotations

from flask import Blueprint, abort
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from identity import audit
from tests.citizen.agency_support import headers, make_client, seed_pricing
from web.auth import public
from web.database import db_session

CUT = ConnectionError("terminating connection due to administrator command")


def test_a_page_whose_connection_is_cut_answers_503_even_for_a_logged_in_visitor(make_app):
    app = make_app()
    bp = Blueprint("cut", __name__)

    @bp.get("/_test/cut")
    @public
    def cut():
        session = db_session()
        session.execute(text("SELECT 1"))
        session.connection().invalidate()  # what a cut connection leaves: the transaction cannot go on
        raise OperationalError("SELECT 1", {}, CUT)

    app.register_blueprint(bp)
    browser = app.test_client()
    browser.set_cookie("gw_sid", "a-session-token-the-error-page-would-look-up")
    answer = browser.get("/_test/cut")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert "text/html" in answer.headers["Content-Type"]


def test_any_error_page_is_served_when_the_database_goes_away_while_it_is_rendered(make_app):
    app = make_app()
    bp = Blueprint("cut_then_404", __name__)

    @bp.get("/_test/cut-then-404")
    @public
    def cut_then_404():
        db_session().connection().invalidate()  # cut just now: the header's "who is logged in" meets it
        abort(404)

    app.register_blueprint(bp)
    browser = app.test_client()
    browser.set_cookie("gw_sid", "a-session-token-the-error-page-would-look-up")
    answer = browser.get("/_test/cut-then-404")
    assert answer.status_code == 404 and "text/html" in answer.headers["Content-Type"]


def test_an_api_call_whose_connection_is_cut_during_its_writes_answers_503(app, client, db, monkeypatch):
    seed_pricing(db)
    _, key, _ = make_client(app, db)

    def list_bills_while_the_connection_is_cut(session, *args, **kwargs):
        def fail(*_):
            raise OperationalError("INSERT INTO audit_events ...", {}, CUT)

        event.listen(session.connection(), "before_cursor_execute", fail, once=True)
        audit.record(session, "read_bills", actor="test")  # its flush meets the cut
        raise AssertionError("the flush should have failed")

    monkeypatch.setattr("citizen.api.bills.agency_bills.list_agency_bills", list_bills_while_the_connection_is_cut)
    answer = client.get("/api/v1/bills", headers=headers(key))
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.get_json()["code"] == "database_unavailable"
