"""Input no handler should ever see: NUL characters, lone surrogates, JSON nested without end.

PostgreSQL refuses NUL in text, UTF-8 cannot encode a lone surrogate, and a JSON document nested a
thousand levels deep exhausts the parser's recursion: each used to end in a 500 somewhere deep in a
handler. One check before any route runs turns them into a 400 with a stable code, for every route,
form, query and JSON body alike (``tests/web/test_input_guard.py`` fuzzes it).
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, Response, request
from flask_babel import gettext as _

from web.errors import error_response

#: Characters no text field may hold: NUL, and UTF-16 surrogates that stand alone after JSON decoding.
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
#: No document the gateway accepts nests deeper than a handful of levels; 64 leaves room and stays far
#: from the interpreter's recursion limit for every parser and schema after this check.
MAX_JSON_DEPTH = 64


def init_app(app: Flask) -> None:
    """Check every request before its route runs."""
    app.before_request(_refuse_hostile_input)


def _refuse_hostile_input() -> Response | None:
    if _has_forbidden(request.path) or any(_has_forbidden(k) or _has_forbidden(v)
                                           for k, v in request.args.items(multi=True)):
        return _invalid_characters()
    if request.mimetype == "application/json" or request.mimetype.endswith("+json"):
        return _check_json(request.get_data(cache=True))
    if request.form and any(_has_forbidden(k) or _has_forbidden(v) for k, v in request.form.items(multi=True)):
        return _invalid_characters()
    return None


def _check_json(body: bytes) -> Response | None:
    if not body:
        return None
    try:
        document = json.loads(body)
    except RecursionError:  # the parser gives up near Python's recursion limit (about 1,000 levels)
        return _too_deep()
    except ValueError:
        return None  # not JSON at all: the route's own parser answers that in its usual way
    return _walk(document)


def _walk(document: Any) -> Response | None:
    # Iterative, with its own bound: a recursive walk (and the schemas after it) would run out of stack
    # on a document the parser still accepted, a few hundred levels deep.
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            return _too_deep()
        if isinstance(value, str) and _has_forbidden(value):
            return _invalid_characters()
        if isinstance(value, dict):
            if any(_has_forbidden(key) for key in value):
                return _invalid_characters()
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
    return None


def _has_forbidden(text: str) -> bool:
    return _FORBIDDEN.search(text) is not None


def _too_deep() -> Response:
    return error_response(400, "json_too_deep", _("The JSON document is nested too deeply."))


def _invalid_characters() -> Response:
    return error_response(400, "invalid_characters",
                          _("The request contains characters that are not allowed (such as NUL)."))
