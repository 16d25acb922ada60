"""The public fee schedule: what each service costs on a day, who pays less and why, with the citations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from core.money import Money, format_money
from subsidies.catalogue import Service, list_services
from subsidies.compiler import CompiledRule
from subsidies.definitions import Effect, LegalBasis
from subsidies.explanation import LANGUAGES, describe_condition
from subsidies.rule_store import current_rule_set

_UNIT_WORDS = {"vi": "đơn vị", "en": "unit"}


@dataclass(frozen=True)
class ScheduleLine:
    """One rule in force, as citizens read it: title, who it is for, what it does, the legal basis."""

    rule_key: str
    layer: str
    title: dict[str, str]
    who: dict[str, str]
    what: dict[str, str]
    legal_basis: tuple[LegalBasis, ...]
    fund: str | None


@dataclass(frozen=True)
class ServiceSchedule:
    """A service's prices and reductions in force on one day."""

    service: Service
    agency: str | None
    prices: tuple[ScheduleLine, ...]
    reductions: tuple[ScheduleLine, ...]


def fee_schedule(session: Session, day: date) -> list[ServiceSchedule]:
    """Every catalogue service with the rules of the current rule set in force on ``day``."""
    rule_set = current_rule_set(session)
    schedules = []
    for service in list_services(session):
        lines = [_line(rule) for rule, in_force in rule_set.rules_on(service.code, day.toordinal()) if in_force]
        agency = service.agency_on(day)
        schedules.append(ServiceSchedule(
            service=service, agency=agency.name if agency else None,
            prices=tuple(line for line in lines if line.layer == "base"),
            reductions=tuple(line for line in lines if line.layer != "base")))
    return schedules


def _line(rule: CompiledRule) -> ScheduleLine:
    definition = rule.definition
    return ScheduleLine(
        rule_key=rule.key, layer=rule.layer, title=dict(definition.title),
        who={lang: "; ".join(describe_condition(check, lang) for check in rule.checks) for lang in LANGUAGES},
        what={lang: "; ".join(describe_effect(effect, lang) for effect in definition.effects) for lang in LANGUAGES},
        legal_basis=definition.legal_basis, fund=rule.fund)


def describe_effect(effect: Effect, lang: str) -> str:
    """An effect in words: ``200.000 ₫``, ``5.000 ₫ mỗi đơn vị từ đơn vị thứ 3``, ``miễn toàn bộ``."""
    vi = lang == "vi"
    amount = format_money(Money(effect.amount), lang) if effect.amount is not None else ""
    if effect.type == "set_price":
        return amount
    if effect.type == "exempt":
        return "miễn toàn bộ" if vi else "exempt in full"
    if effect.type == "percent_of_remaining":
        return f"giảm {effect.percent}% số còn phải nộp" if vi else f"{effect.percent}% of the amount left off"
    if effect.type == "amount_off":
        return f"giảm {amount}" if vi else f"{amount} off"
    text = f"{amount} / {_units(effect, lang)}"
    if effect.type == "per_unit_off":
        text = (f"giảm {text}" if vi else f"{text} off")
    if effect.max_total is not None:
        cap = format_money(Money(effect.max_total), lang)
        text += f", tối đa {cap}" if vi else f", at most {cap}"
    return text


def _units(effect: Effect, lang: str) -> str:
    vi = lang == "vi"
    block = f"{effect.step} {_UNIT_WORDS[lang]}" if effect.step != 1 else _UNIT_WORDS[lang]
    if effect.from_unit == 1 and effect.to_unit is None:
        return block
    if effect.to_unit is None:
        return f"{block} từ thứ {effect.from_unit}" if vi else f"{block} from number {effect.from_unit}"
    return (f"{block} thứ {effect.from_unit}–{effect.to_unit}" if vi
            else f"{block} number {effect.from_unit}–{effect.to_unit}")
