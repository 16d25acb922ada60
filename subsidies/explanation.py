"""Render a decision's trace as an explanation tree, in Vietnamese and English.

Layers hold entries; each entry says which rule version, whether it applied, why (the failed condition
with the citizen's value, the blocking rule, the exhausted fund), the amount and the legal basis.
"""

from __future__ import annotations

from typing import Any

from core.money import Money, format_money
from subsidies import evaluator as ev
from subsidies.compiler import Check, CompiledRule
from subsidies.vocabulary import FIELD_WORDS, LAYERS, OPERATOR_WORDS, VALUE_WORDS

LANGUAGES = ("vi", "en")

LAYER_LABELS = {
    "base": {"vi": "Mức phí cơ bản", "en": "Base fee"},
    "national": {"vi": "Miễn, giảm theo quy định quốc gia", "en": "National exemptions and reductions"},
    "local": {"vi": "Hỗ trợ của địa phương", "en": "Local support"},
}

_REASONS = {
    ev.APPLIED: {"vi": "Áp dụng: {amount}.", "en": "Applied: {amount}."},
    ev.NOT_IN_FORCE: {"vi": "Không áp dụng: không có hiệu lực ngày {day} (hiệu lực {window}).",
                      "en": "Not applied: not in force on {day} (in force {window})."},
    ev.CONDITION_FAILED: {"vi": "Không áp dụng: điều kiện không đạt: {condition} (thực tế: {actual}).",
                          "en": "Not applied: condition failed: {condition} (actual: {actual})."},
    ev.FACT_MISSING: {"vi": "Không áp dụng: chưa biết {field}.", "en": "Not applied: {field} is not known."},
    ev.CODE_LIST_MISMATCH: {"vi": "Không áp dụng: mã địa bàn theo danh mục {actual}, quy định dùng {expected}.",
                            "en": "Not applied: the residence code is from code list {actual}; "
                                  "the rule uses {expected}."},
    ev.LAYER_DECIDED: {"vi": "Không áp dụng: quy định {other} đã được áp dụng ở lớp này.",
                       "en": "Not applied: {other} already applied in this layer."},
    ev.PRIOR_LAYER_APPLIED: {"vi": "Không áp dụng: đã được miễn, giảm theo quy định {other}.",
                             "en": "Not applied: already exempted or reduced under {other}."},
    ev.FUND_EXHAUSTED: {"vi": "Không áp dụng: ngân sách hỗ trợ đã hết (quỹ {fund}).",
                        "en": "Not applied: the support budget is exhausted (fund {fund})."},
}


def render(decision: ev.Decision) -> list[dict[str, Any]]:
    """Return the explanation tree: one node per layer, each with an entry per rule considered."""
    tree = []
    for layer in LAYERS:
        entries = [_entry(decision, step) for step in decision.trace if step.rule.layer == layer]
        if entries:
            tree.append({"layer": layer, "label": dict(LAYER_LABELS[layer]), "entries": entries})
    return tree


def summary(decision: ev.Decision) -> dict[str, str]:
    """One sentence per language: base, reductions and what is due."""
    texts = {}
    for lang in LANGUAGES:
        base, due = format_money(decision.base, lang), format_money(decision.due, lang)
        texts[lang] = (f"Phí cơ bản {base}, phải nộp {due}." if lang == "vi"
                       else f"Base fee {base}; amount due {due}.")
    return texts


def _entry(decision: ev.Decision, step: ev.Step) -> dict[str, Any]:
    rule = step.rule
    definition = rule.definition
    signed = step.amount if rule.layer == "base" else -step.amount
    return {
        "rule_id": rule.rule_id,
        "version": rule.version,
        "title": dict(definition.title),
        "applied": step.outcome == ev.APPLIED,
        "outcome": step.outcome,
        "amount": signed,
        "reason": {lang: _reason(decision, step, signed, lang) for lang in LANGUAGES},
        "failed_condition": step.detail.condition.to_dict() if isinstance(step.detail, Check) else None,
        "legal_basis": [basis.to_dict() for basis in definition.legal_basis],
    }


def _reason(decision: ev.Decision, step: ev.Step, signed: int, lang: str) -> str:
    template = _REASONS[step.outcome][lang]
    rule, detail = step.rule, step.detail
    values: dict[str, str] = {"amount": _signed_money(signed, lang), "day": decision.day.isoformat(),
                              "fund": rule.fund or ""}
    if step.outcome == ev.NOT_IN_FORCE:
        definition = rule.definition
        end = definition.effective_to.isoformat() if definition.effective_to else "…"
        values["window"] = f"{definition.effective_from.isoformat()} – {end}"
    if isinstance(detail, Check):
        values["condition"] = describe_condition(detail, lang)
        values["field"] = FIELD_WORDS[detail.key][lang]
        values["actual"] = _value_text(detail.key, decision.facts.get(detail.key), lang)
        values["expected"] = detail.code_list or ""
        if step.outcome == ev.CODE_LIST_MISMATCH:
            values["actual"] = str(decision.facts.get("code_list"))
    if isinstance(detail, CompiledRule):
        values["other"] = _citation(detail)
    return template.format(**values)


def describe_condition(check: Check, lang: str) -> str:
    """``e-ID level ≥ 2`` / ``mức định danh điện tử ≥ 2``."""
    condition = check.condition
    value = condition.value
    shown = f"{value[0]}–{value[1]}" if condition.op == "between" else _value_text(condition.field, value, lang)
    return f"{FIELD_WORDS[condition.field][lang]} {OPERATOR_WORDS[condition.op][lang]} {shown}"


def _citation(rule: CompiledRule) -> str:
    docs = ", ".join(basis.doc for basis in rule.definition.legal_basis)
    return f"{rule.key} ({docs})"


def _value_text(field: str, value: Any, lang: str) -> str:
    words = VALUE_WORDS.get(field, {})

    def word(item: Any) -> str:
        return words[item][lang] if item in words else str(item)

    if isinstance(value, frozenset | set | tuple | list):
        return ", ".join(sorted(map(word, value))) or "—"
    return "—" if value is None else word(value)


def _signed_money(amount: int, lang: str) -> str:
    text = format_money(Money(abs(amount)), lang)
    return f"−{text}" if amount < 0 else f"+{text}"
