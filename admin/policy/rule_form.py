"""Between the editor's form rows and a rule's data (``RuleDefinition.to_dict`` shape), both ways.

The form only turns text into typed values and drops blank rows; whether the rule makes sense is for
``subsidies.schema.parse_rule`` to say, so the form and YAML imports are judged by the same words.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from admin.policy.forms import BLANK_ROWS, RuleForm, options
from subsidies.vocabulary import FIELDS, INT, LIST_OPERATORS

_EFFECT_PARAMS = ("amount", "percent", "from_unit", "to_unit", "step", "max_total")


def build_form(formdata: MultiDict | None, *, services: list[tuple[str, str]], funds: list[str],
               code_lists: list[str], data: dict[str, Any] | None = None) -> RuleForm:
    """A rule form for ``formdata`` (a post) or ``data`` (an existing rule), with blank rows to fill in."""
    form = RuleForm(formdata, data=_form_data(data) if data and formdata is None else None)
    form.service.choices = [SelectChoice(code, label) for code, label in services]
    form.budget_fund.choices = options(funds, blank=True)
    if formdata is None:
        for name, blank in BLANK_ROWS.items():
            for _ in range(blank):
                getattr(form, name).append_entry()
    for row in form.conditions:
        row.form.code_list.choices = options(code_lists, blank=True)
    return form


def rule_data(form: RuleForm) -> dict[str, Any]:
    """The rule the form describes, for ``create_draft`` / ``update_draft`` (blank rows left out)."""
    return {
        "rule_id": form.rule_id.data.strip().upper(), "service": form.service.data, "layer": form.layer.data,
        "priority": form.priority.data, "hit_policy": form.hit_policy.data,
        "title": {"vi": form.title_vi.data.strip(), "en": form.title_en.data.strip()},
        "effective_from": form.effective_from.data.isoformat(),
        "effective_to": _iso(form.effective_to.data),
        "unless_layer_applied": form.unless_layer_applied.data or None,
        "budget_fund": form.budget_fund.data or None,
        "legal_basis": [_basis(row.form) for row in form.legal_basis if _filled(row.form, "doc", "issuer", "article")],
        "conditions": [_condition(row.form) for row in form.conditions if row.form.field.data],
        "effects": [_effect(row.form) for row in form.effects if row.form.type.data],
        "tests": [_test(row.form, form.service.data) for row in form.tests if (row.form.name.data or "").strip()],
    }


def _filled(row, *names: str) -> bool:
    return any((getattr(row, name).data or "").strip() for name in names)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _basis(row) -> dict[str, Any]:
    return {"doc": row.doc.data.strip(), "issuer": row.issuer.data.strip(), "date": _iso(row.date.data),
            "article": row.article.data.strip(), "url": (row.url.data or "").strip() or None,
            "verify": bool(row.verify.data)}


def _condition(row) -> dict[str, Any]:
    declared = FIELDS.get(row.field.data)
    typed = [v.strip() for v in (row.value.data or "").split(",") if v.strip()]
    values: list[Any] = list(row.choices.data or []) or typed
    if declared is not None and declared.type == INT:
        values = [int(v) if v.lstrip("-").isdigit() else v for v in values]
    op = row.op.data
    value: Any = values if op in LIST_OPERATORS or op == "between" else (values[0] if len(values) == 1 else values)
    condition = {"field": row.field.data, "op": op, "value": value}
    if row.code_list.data:
        condition["code_list"] = row.code_list.data
    return condition


def _effect(row) -> dict[str, Any]:
    effect: dict[str, Any] = {"type": row.type.data}
    for name in _EFFECT_PARAMS:
        value = getattr(row, name).data
        if value not in (None, ""):
            effect[name] = value.strip() if isinstance(value, str) else value
    return effect


def _test(row, service: str) -> dict[str, Any]:
    given: dict[str, Any] = {"service": service, "decision_date": _iso(row.decision_date.data),
                             "channel": row.channel.data, "quantity": row.quantity.data or 1}
    if row.birthdate.data:
        given["birthdate"] = row.birthdate.data.isoformat()
    if (row.residence_province_code.data or "").strip():
        given["residence_province_code"] = row.residence_province_code.data.strip()
    if row.eid_level.data:
        given["eid_level"] = int(row.eid_level.data)
    for name in ("vehicle_class", "time_band"):
        if getattr(row, name).data:
            given[name] = getattr(row, name).data
    if row.categories.data:
        given["categories"] = list(row.categories.data)
    expect: dict[str, Any] = {} if row.amount_due.data is None else {"amount_due": row.amount_due.data}
    applied = [v.strip() for v in (row.applied.data or "").split(",") if v.strip()]
    if applied:
        expect["applied"] = applied
    return {"name": row.name.data.strip(), "given": given, "expect": expect}


def _form_data(rule: dict[str, Any]) -> dict[str, Any]:
    """Form values for an existing rule (the reverse of ``rule_data``)."""
    data = {key: rule.get(key) for key in ("rule_id", "service", "layer", "priority", "hit_policy",
                                           "unless_layer_applied", "budget_fund")}
    data.update(title_vi=rule["title"]["vi"], title_en=rule["title"]["en"],
                effective_from=_date(rule["effective_from"]), effective_to=_date(rule.get("effective_to")))
    data["legal_basis"] = [{**basis, "date": _date(basis.get("date"))} for basis in rule["legal_basis"]]
    data["conditions"] = [_condition_row(c) for c in rule.get("conditions") or []]
    data["effects"] = [dict(effect) for effect in rule["effects"]]
    data["tests"] = [_test_row(test) for test in rule.get("tests") or []]
    return data


def _condition_row(condition: dict[str, Any]) -> dict[str, Any]:
    values = condition["value"] if isinstance(condition["value"], list) else [condition["value"]]
    listed = FIELDS[condition["field"]].values
    row = {"field": condition["field"], "op": condition["op"], "code_list": condition.get("code_list") or ""}
    if listed:
        row["choices"] = [str(v) for v in values]
    else:
        row["value"] = ", ".join(str(v) for v in values)
    return row


def _test_row(test: dict[str, Any]) -> dict[str, Any]:
    given = test["given"]
    return {"name": test["name"], "decision_date": _date(given.get("decision_date")),
            "channel": given.get("channel", "COUNTER"), "quantity": given.get("quantity", 1),
            "birthdate": _date(given.get("birthdate")), "residence_province_code": given.get("residence_province_code"),
            "eid_level": str(given.get("eid_level") or ""), "categories": given.get("categories") or [],
            "vehicle_class": given.get("vehicle_class") or "", "time_band": given.get("time_band") or "",
            "amount_due": test["expect"].get("amount_due"), "applied": ", ".join(test["expect"].get("applied") or [])}


def _date(value: Any) -> date | None:
    if not value:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
