"""Logs are JSON lines with the request id, and never carry secrets or whole personal ID numbers."""

import json
import logging
import sys

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.db import make_engine
from web.logs import JsonFormatter, mask_personal_ids, request_id_var


def _format(message, *args, secrets=(), **extra):
    record = logging.LogRecord("t", logging.INFO, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return json.loads(JsonFormatter(list(secrets)).format(record))


def test_a_log_line_is_json_with_the_request_id():
    token = request_id_var.set("req-42")
    try:
        line = _format("paid %s", "bill-1", amount=200000)
    finally:
        request_id_var.reset(token)
    assert line["message"] == "paid bill-1"
    assert line["request_id"] == "req-42"
    assert line["amount"] == 200000 and line["level"] == "INFO"
    assert line["ts"].endswith("+00:00")


def test_secrets_are_replaced_wherever_they_appear():
    line = _format("connecting with %s", "s3cr3t-value-xyz", secrets=["s3cr3t-value-xyz"], url="x://s3cr3t-value-xyz")
    assert "s3cr3t" not in json.dumps(line)


def test_personal_id_numbers_are_masked():
    assert mask_personal_ids("citizen 001199012345 logged in") == "citizen 0011******45 logged in"
    assert mask_personal_ids("order 1234567890123") == "order 1234567890123"  # 13 digits: not an ID
    assert "001199012345" not in json.dumps(_format("id=%s", "001199012345"))


def test_our_hex_identifiers_stay_whole_even_with_twelve_digits_in_a_row():
    # A sandbox session or request id can hold 12 digits in a row; masked, a log line no longer matched its
    # session or its X-Request-ID (the deployed test that finds a sandbox page in the access log failed so).
    for identifier in ("/sandbox/pay/sbx_fc10b084dd0e463686155777", "34fc88d1de449f502212345611a985fb"):
        assert mask_personal_ids(identifier) == identifier
    # An ID number next to one is still masked, and so is one glued to upper-case letters.
    assert mask_personal_ids("sbx_fc10b084dd0e463686155777 for 001199012345") == (
        "sbx_fc10b084dd0e463686155777 for 0011******45")
    assert mask_personal_ids("CCCD001199012345") == "CCCD0011******45"


def test_request_lines_leave_out_query_strings(client, caplog):
    with caplog.at_level(logging.INFO, logger="gateway.access"):
        client.get("/healthz?code=SECRET-CODE")
    access = [r for r in caplog.records if r.name == "gateway.access"]
    assert access and access[-1].path == "/healthz" and access[-1].status == 200
    line = JsonFormatter().format(access[-1])
    assert json.loads(line)["request_id"] and "SECRET-CODE" not in line


def _logged_error(error: BaseException) -> str:
    try:
        raise error
    except BaseException:
        record = logging.LogRecord("gateway.errors", logging.ERROR, __file__, 1, "unhandled error", (),
                                   sys.exc_info())
    return json.loads(JsonFormatter().format(record))["exception"]


def test_a_database_error_is_logged_with_its_statement_and_code_but_no_value_it_quotes(database_url):
    values = {"v": "Trần Thị Bình", "w": "x" * 5000}
    engine = make_engine(database_url)
    # PostgreSQL quotes the value it cannot cast; SQLite casts anything, so it fails on a missing table.
    statement = ("SELECT CAST(:v AS integer) + CAST(:w AS integer)" if engine.dialect.name == "postgresql"
                 else "SELECT :v, :w FROM no_such_table")
    try:
        with engine.begin() as connection:
            connection.execute(text(statement), values)  # (the traceback quotes this line: no literals in it)
    except DBAPIError as error:
        logged = _logged_error(error)
    finally:
        engine.dispose()
    assert "Trần Thị Bình" not in logged and "xxxx" not in logged and "[parameters:" not in logged
    assert "[SQL: SELECT " in logged and "[database message not logged]" in logged
    assert "sqlalchemy.exc." in logged and "Traceback (most recent call last)" in logged


def test_a_chained_error_keeps_every_cause_in_order():
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise ValueError("outer") from inner
    except ValueError as error:
        logged = _logged_error(error)
    assert logged.index("KeyError: 'inner'") < logged.index("ValueError: outer")
