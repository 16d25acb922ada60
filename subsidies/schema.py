"""Strict parsing of rule data (from YAML, forms or the database) into ``RuleDefinition``.

Every key is known, every value typed; the first problem raises ``RuleInvalid`` with the path of the
offending value (``conditions[1].op``) so a form or a YAML review can point at it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from subsidies.definitions import Condition, Effect, LegalBasis, RuleDefinition, RuleTest
from subsidies.errors import RuleInvalid
from subsidies.vocabulary import (
    CODE,
    EFFECTS,
    ENUM,
    FIELDS,
    HIT_POLICIES,
    INT,
    LAYERS,
    LIST_OPERATORS,
    OPERATORS,
    SET,
)

RULE_ID = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{1,63}$")
_RULE_KEYS = {"rule_id", "version", "service", "layer", "priority", "hit_policy", "title", "effective_from",
              "effective_to", "legal_basis", "conditions", "effects", "unless_layer_applied", "budget_fund",
              "tests", "status"}
_REQUIRED = ("rule_id", "version", "service", "layer", "title", "effective_from", "legal_basis", "effects")


class _Path:
    """Raises ``RuleInvalid`` naming the rule and where in it the problem is."""

    def __init__(self, rule_id: str):
        self.rule_id = rule_id

    def fail(self, where: str, problem: str) -> RuleInvalid:
        """The error to raise for ``problem`` at ``where``."""
        return RuleInvalid(f"rule {self.rule_id}: {where}: {problem}",
                           details={"rule_id": self.rule_id, "path": where, "problem": problem})


def parse_rule(data: Mapping[str, Any]) -> RuleDefinition:
    """Validate ``data`` and return the rule it describes."""
    if not isinstance(data, Mapping):
        raise RuleInvalid("a rule must be a mapping of keys to values")
    path = _Path(str(data.get("rule_id", "?")))
    _known_keys(path, "rule", data, _RULE_KEYS)
    for key in _REQUIRED:
        if data.get(key) in (None, "", []):
            raise path.fail(key, "is required")
    rule_id = str(data["rule_id"])
    if not RULE_ID.match(rule_id):
        raise path.fail("rule_id", "use capitals, digits, '-', '_' or '.' (2-64 characters)")
    layer = _choice(path, "layer", data["layer"], LAYERS)
    effective_from = _date(path, "effective_from", data["effective_from"])
    effective_to = _date(path, "effective_to", data["effective_to"]) if data.get("effective_to") else None
    if effective_to is not None and effective_to < effective_from:
        raise path.fail("effective_to", "is before effective_from")
    unless = data.get("unless_layer_applied")
    if unless is not None and (unless not in LAYERS or LAYERS.index(unless) >= LAYERS.index(layer)):
        raise path.fail("unless_layer_applied", f"must name an earlier layer than {layer!r}")
    hit_policy = _choice(path, "hit_policy", data.get("hit_policy", "first"), HIT_POLICIES)
    if layer == "base" and hit_policy != "first":
        raise path.fail("hit_policy", "a base fee is chosen by first hit")
    return RuleDefinition(
        rule_id=rule_id, version=_int(path, "version", data["version"], minimum=1),
        service=_text(path, "service", data["service"]), layer=layer, title=_title(path, data["title"]),
        effective_from=effective_from, effective_to=effective_to,
        legal_basis=tuple(_legal_basis(path, f"legal_basis[{i}]", item)
                          for i, item in enumerate(_list(path, "legal_basis", data["legal_basis"]))),
        conditions=tuple(_condition(path, f"conditions[{i}]", item)
                         for i, item in enumerate(_list(path, "conditions", data.get("conditions") or []))),
        effects=tuple(_effect(path, f"effects[{i}]", item, layer)
                      for i, item in enumerate(_list(path, "effects", data["effects"]))),
        priority=_int(path, "priority", data.get("priority", 0), minimum=-1000, maximum=1000),
        hit_policy=hit_policy, unless_layer_applied=unless,
        budget_fund=_text(path, "budget_fund", data["budget_fund"]) if data.get("budget_fund") else None,
        tests=tuple(_test(path, f"tests[{i}]", item) for i, item in enumerate(_list(path, "tests",
                                                                                    data.get("tests") or []))),
    )


def _condition(path: _Path, where: str, data: Any) -> Condition:
    _known_keys(path, where, data, {"field", "op", "value", "code_list"})
    name = data.get("field")
    if name not in FIELDS:
        raise path.fail(f"{where}.field", f"unknown field {name!r}; declared fields: {', '.join(FIELDS)}")
    declared = FIELDS[name]
    op = data.get("op")
    if op not in OPERATORS[declared.type]:
        raise path.fail(f"{where}.op", f"operator {op!r} does not apply to {name}; use one of "
                                       f"{', '.join(OPERATORS[declared.type])}")
    if "value" not in data:
        raise path.fail(f"{where}.value", "is required")
    raw = data["value"]
    if op in LIST_OPERATORS:
        items = _list(path, f"{where}.value", raw)
        if not items:
            raise path.fail(f"{where}.value", "must list at least one value")
        value: Any = tuple(_operand(path, f"{where}.value[{i}]", declared, v) for i, v in enumerate(items))
    elif op == "between":
        pair = _list(path, f"{where}.value", raw)
        if len(pair) != 2:
            raise path.fail(f"{where}.value", "between takes [low, high]")
        value = tuple(_operand(path, f"{where}.value", declared, v) for v in pair)
        if value[0] > value[1]:
            raise path.fail(f"{where}.value", "low is above high")
    else:
        value = _operand(path, f"{where}.value", declared, raw)
    code_list = data.get("code_list")
    if name.startswith("residence.") and not code_list:
        raise path.fail(f"{where}.code_list", "residence codes must name their code list, e.g. QD19/2025")
    if code_list and not name.startswith("residence."):
        raise path.fail(f"{where}.code_list", "only residence codes have a code list")
    return Condition(name, op, value, code_list)


def _operand(path: _Path, where: str, declared, raw: Any) -> Any:
    if declared.type == INT:
        return _int(path, where, raw, minimum=declared.minimum, maximum=declared.maximum)
    if declared.type in (ENUM, SET):
        if raw not in declared.values:
            raise path.fail(where, f"{raw!r} is not one of {', '.join(map(str, declared.values))}")
        return raw
    assert declared.type == CODE
    if not isinstance(raw, str) or not raw.strip():
        raise path.fail(where, "must be a code written as text (quote it in YAML: \"01\")")
    if declared.code_length and (len(raw) != declared.code_length or not raw.isdigit()):
        raise path.fail(where, f"{raw!r} is not a {declared.code_length}-digit code")
    return raw


def _effect(path: _Path, where: str, data: Any, layer: str) -> Effect:
    if not isinstance(data, Mapping) or data.get("type") not in EFFECTS:
        kind = data.get("type") if isinstance(data, Mapping) else data
        raise path.fail(f"{where}.type", f"unknown effect {kind!r}; effects: {', '.join(EFFECTS)}")
    kind = data["type"]
    layers, params = EFFECTS[kind]
    if layer not in layers:
        raise path.fail(f"{where}.type", f"{kind} belongs in the {' or '.join(layers)} layer, not {layer}")
    _known_keys(path, where, data, {"type", *params})
    for name, required in params.items():
        if required and data.get(name) is None:
            raise path.fail(f"{where}.{name}", "is required")
    values: dict[str, Any] = {}
    for name in ("amount", "max_total"):
        if data.get(name) is not None:
            values[name] = _int(path, f"{where}.{name}", data[name], minimum=0, maximum=10**12)
    for name in ("from_unit", "to_unit", "step"):
        if data.get(name) is not None:
            values[name] = _int(path, f"{where}.{name}", data[name], minimum=1, maximum=10_000)
    if values.get("to_unit") is not None and values["to_unit"] < values.get("from_unit", 1):
        raise path.fail(f"{where}.to_unit", "is below from_unit")
    if data.get("percent") is not None:
        values["percent"] = _percent(path, f"{where}.percent", data["percent"])
    return Effect(kind, **values)


def _legal_basis(path: _Path, where: str, data: Any) -> LegalBasis:
    _known_keys(path, where, data, {"doc", "issuer", "date", "article", "url", "verify", "sha256"})
    verify = data.get("verify", False)
    if not isinstance(verify, bool):
        raise path.fail(f"{where}.verify", "must be true or false")
    for key in ("doc", "issuer", "date", "article"):
        # An unconfirmed citation may leave its date open; it is shown as "to verify" everywhere.
        if not data.get(key) and not (key == "date" and verify):
            raise path.fail(f"{where}.{key}", "is required: every rule cites its legal basis")
    url = data.get("url")
    if url is not None and not str(url).startswith(("https://", "http://")):
        raise path.fail(f"{where}.url", "must be an http(s) link")
    when = _date(path, f"{where}.date", data["date"]) if data.get("date") else None
    return LegalBasis(doc=_text(path, f"{where}.doc", data["doc"]), issuer=_text(path, f"{where}.issuer",
                      data["issuer"]), date=when,
                      article=_text(path, f"{where}.article", data["article"]), url=url, verify=verify,
                      sha256=data.get("sha256"))


def _test(path: _Path, where: str, data: Any) -> RuleTest:
    _known_keys(path, where, data, {"name", "given", "expect"})
    if not isinstance(data.get("given"), Mapping) or not isinstance(data.get("expect"), Mapping):
        raise path.fail(where, "a test needs 'given' and 'expect' mappings")
    _known_keys(path, f"{where}.expect", data["expect"], {"amount_due", "base_amount", "applied", "not_applied"})
    return RuleTest(name=_text(path, f"{where}.name", data.get("name", where)), given=_plain(data["given"]),
                    expect=_plain(data["expect"]))


def _plain(value: Any) -> Any:
    """JSON-ready copy: YAML dates become ISO text, so tests store and hash the same way everywhere."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _title(path: _Path, data: Any) -> dict[str, str]:
    _known_keys(path, "title", data, {"vi", "en"})
    if not data.get("vi") or not data.get("en"):
        raise path.fail("title", "needs both 'vi' and 'en'")
    return {"vi": str(data["vi"]), "en": str(data["en"])}


def _known_keys(path: _Path, where: str, data: Any, allowed: set[str]) -> None:
    if not isinstance(data, Mapping):
        raise path.fail(where, "must be a mapping")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise path.fail(where, f"unknown key(s) {', '.join(map(str, unknown))}; allowed: {', '.join(sorted(allowed))}")


def _choice(path: _Path, where: str, value: Any, options: tuple[str, ...]) -> str:
    if value not in options:
        raise path.fail(where, f"{value!r} is not one of {', '.join(options)}")
    return value


def _list(path: _Path, where: str, value: Any) -> list:
    if not isinstance(value, list | tuple):
        raise path.fail(where, "must be a list")
    return list(value)


def _text(path: _Path, where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise path.fail(where, "must be non-empty text")
    return value.strip()


def _int(path: _Path, where: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    # bool is an int in Python and a float may carry a fraction: refuse both.
    if isinstance(value, bool) or not isinstance(value, int):
        raise path.fail(where, f"{value!r} is not a whole number")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise path.fail(where, f"{value} is outside {minimum}..{maximum}")
    return value


def _percent(path: _Path, where: str, value: Any) -> Decimal:
    if isinstance(value, bool | float):
        raise path.fail(where, "write a percentage as a whole number or quoted decimal, e.g. 50 or \"12.5\"")
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        raise path.fail(where, f"{value!r} is not a number") from None
    if not rate.is_finite() or not 0 <= rate <= 100:
        raise path.fail(where, "must lie between 0 and 100")
    return rate


def _date(path: _Path, where: str, value: Any) -> date:
    if isinstance(value, datetime):
        raise path.fail(where, f"{value!r} is a moment; give a calendar date (YYYY-MM-DD)")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise path.fail(where, f"{value!r} is not a date (YYYY-MM-DD)") from None
