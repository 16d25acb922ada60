"""Structured JSON logs with the request id on every line, scrubbed of secrets, personal ID numbers and
e-mail addresses."""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy.exc import StatementError

from core.mail import mask_emails

#: The id of the request or job being handled; every log line carries it.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}
#: A 12-digit personal ID number shows only its first 4 and last 2 digits, as on screen.
_PERSONAL_ID = re.compile(r"(?<!\d)(\d{4})\d{6}(\d{2})(?!\d)")


#: Our own identifiers: lower-case hex of 20 characters or more (request ids, sandbox sessions, token hashes).
#: One may hold 12 digits in a row by chance; it is no ID number and must stay whole to be matched.
_HEX_IDENTIFIER = re.compile(r"(?<![0-9a-z])[0-9a-f]*[a-f][0-9a-f]*(?![0-9a-z])")


def mask_personal_ids(text: str) -> str:
    """Mask every 12-digit number in ``text`` as ``0011******45``, except inside our hex identifiers."""
    return _outside_hex_identifiers(text, lambda part: _PERSONAL_ID.sub(r"\1******\2", part))


def without_hex_identifiers(text: str) -> str:
    """``text`` with our hex identifiers blanked out: what is left is what an ID number could hide in."""
    return _outside_hex_identifiers(text, lambda part: part, blank=True)


def _outside_hex_identifiers(text: str, change, *, blank: bool = False) -> str:
    parts, last = [], 0
    for found in _HEX_IDENTIFIER.finditer(text):
        if len(found.group(0)) >= 20:
            parts += [change(text[last:found.start()]), "_" if blank else found.group(0)]
            last = found.end()
    return "".join(parts) + change(text[last:])


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request id and extra fields."""

    def __init__(self, secrets: list[str] | None = None):
        super().__init__()
        self._secrets = [s for s in (secrets or []) if s]

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
            "pid": record.process,  # which gunicorn worker or job worker wrote it
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return self._scrub(json.dumps(entry, default=str, ensure_ascii=False))

    def formatException(self, exc_info) -> str:
        """The traceback, with what a database error quotes (parameters, values, rows) left out."""
        return format_exception_safely(exc_info[1])

    def _scrub(self, line: str) -> str:
        for secret in self._secrets:
            line = line.replace(secret, "[secret]")
        return mask_emails(mask_personal_ids(line))


def format_exception_safely(error: BaseException | None) -> str:
    """Format ``error`` and its causes like ``traceback``, but a database error shows only its kind, its
    SQLSTATE and our statement: drivers quote the offending value ("invalid input syntax for type integer:
    \"<name>\""), the failing row and, unless hidden, every parameter of the statement."""
    chain, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        chain.append(error)
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    parts = ["Traceback (most recent call last):\n" + "".join(traceback.format_tb(e.__traceback__)) + _describe(e)
             for e in reversed(chain)]
    return "\nDuring handling of the above exception, another exception occurred:\n\n".join(parts)


def _describe(error: BaseException) -> str:
    if isinstance(error, StatementError):
        original = error.orig
        return (f"{_name(error)}: ({_name(original)}) {_database_code(original)} [database message not logged]\n"
                f"[SQL: {error.statement}]\n")
    if _is_driver_error(error):
        return f"{_name(error)}: {_database_code(error)} [database message not logged]\n"
    return "".join(traceback.format_exception_only(type(error), error))


def _is_driver_error(error: BaseException) -> bool:
    return type(error).__module__.split(".")[0] in ("psycopg", "psycopg2", "sqlite3")


def _database_code(error: BaseException | None) -> str:
    code = getattr(error, "sqlstate", None) or getattr(error, "sqlite_errorname", None)
    return f"SQLSTATE {code}" if code else ""


def _name(error: BaseException | None) -> str:
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def configure_logging(level: str, secrets: list[str]) -> None:
    """Send every log record to stderr as JSON; safe to call again (it replaces its own handler)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_gateway", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(secrets))
    handler._gateway = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic narrates every schema check at INFO; readiness probes would fill the log with it.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
