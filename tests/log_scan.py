"""A pytest plugin: every log line the suite makes the code write, formatted exactly as production writes it
(the gateway's JSON handler, with its scrubbing), is scanned for personal data, secrets and SQL parameters.

The run fails if any line holds one, naming the test that wrote it. Logs leave the city's systems (log
shippers, support tickets); what they may carry is a masked ID number, never a name, a key or a row.
"""

from __future__ import annotations

import logging
import re

import pytest

from identity.devidp.accounts import CITIZENS, STAFF
from web.logs import JsonFormatter, without_hex_identifiers

_LEAKS = {
    "personal ID number": re.compile(r"(?<!\d)\d{12}(?!\d)"),
    "API key": re.compile(r"gwk_[A-Za-z0-9_-]{20,}"),
    "Stripe secret": re.compile(r"\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9]{8,}|whsec_[A-Za-z0-9]{8,}"),
    "SQL parameters": re.compile(r"\[parameters: |Failing row contains|Key \([^)]*\)=\("),
    "e-mail address": re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    "citizen or staff name": re.compile("|".join(re.escape(person.name) for person in (*CITIZENS, *STAFF))),
}
_found: list[str] = []
_current = {"test": "(outside a test)"}


class _ScanningHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        line = _production_formatter().format(record)
        for what, pattern in _LEAKS.items():
            # Twelve digits inside a request or session id are chance, not an ID number (web/logs.py).
            text = without_hex_identifiers(line) if what == "personal ID number" else line
            match = pattern.search(text)
            if match:
                _found.append(f"{_current['test']}: {what} in a {record.levelname} line of {record.name!r}: "
                              f"…{text[max(0, match.start() - 80):match.end() + 40]}…")


def _production_formatter() -> logging.Formatter:
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_gateway", False):
            return handler.formatter
    return JsonFormatter()


def pytest_configure(config) -> None:
    logging.getLogger().addHandler(_ScanningHandler())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _current["test"] = item.nodeid
    try:
        return (yield)
    finally:
        _current["test"] = "(outside a test)"


def pytest_terminal_summary(terminalreporter) -> None:
    if _found:
        terminalreporter.write_sep("!", f"PERSONAL DATA OR SECRETS IN LOGS: {len(_found)} lines", red=True, bold=True)
        for line in _found[:50]:
            terminalreporter.write_line(line, red=True)


def pytest_sessionfinish(session, exitstatus) -> None:
    if _found and session.exitstatus == 0:
        session.exitstatus = 1
