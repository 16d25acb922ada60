"""YAML import and export of rules, so rule sets can be reviewed in files and seeded from the repository.

Only ``yaml.safe_load`` is used: YAML tags that build Python objects are refused by the loader itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from subsidies.definitions import RuleDefinition
from subsidies.errors import RuleInvalid
from subsidies.schema import parse_rule

RULES_DIR = Path(__file__).parent / "rules"
#: Statuses a YAML file may ask for; ``published`` seed rules were reviewed in the repository.
FILE_STATUSES = ("draft", "published")


@dataclass(frozen=True)
class LoadedRule:
    """A rule read from a file and the status the file asks for."""

    definition: RuleDefinition
    status: str
    source: str


def parse_rules_yaml(text: str, source: str = "<text>") -> list[LoadedRule]:
    """Parse a YAML document with a top-level ``rules:`` list."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleInvalid(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise RuleInvalid(f"{source}: expected a mapping with a 'rules' list")
    loaded = []
    for item in document["rules"]:
        status = item.get("status", "published") if isinstance(item, dict) else "published"
        if status not in FILE_STATUSES:
            raise RuleInvalid(f"{source}: rule {item.get('rule_id')}: status must be draft or published")
        try:
            loaded.append(LoadedRule(parse_rule(item), status, source))
        except RuleInvalid as exc:
            raise RuleInvalid(f"{source}: {exc.message}", details=exc.details) from None
    return loaded


def load_rule_files(paths: Iterable[Path] | None = None) -> list[LoadedRule]:
    """Load every rule file (default: the seed files in ``subsidies/rules``, catalogue excluded)."""
    chosen = sorted(paths) if paths is not None else sorted(p for p in RULES_DIR.glob("*.yaml")
                                                            if p.name != "catalogue.yaml")
    loaded: list[LoadedRule] = []
    for path in chosen:
        loaded.extend(parse_rules_yaml(path.read_text(encoding="utf-8"), path.name))
    return loaded


def load_catalogue(path: Path | None = None) -> dict[str, Any]:
    """Return the catalogue file's ``services`` and ``funds`` lists."""
    document = yaml.safe_load((path or RULES_DIR / "catalogue.yaml").read_text(encoding="utf-8"))
    return {"services": document.get("services", []), "funds": document.get("funds", [])}


def dump_rules(definitions: Iterable[RuleDefinition], statuses: dict[str, str] | None = None) -> str:
    """Return YAML for ``definitions``; it loads back to equal definitions."""
    rules = []
    for definition in definitions:
        data = definition.to_dict()
        if statuses and definition.key in statuses:
            data["status"] = statuses[definition.key]
        rules.append(data)
    return yaml.safe_dump({"rules": rules}, sort_keys=False, allow_unicode=True, width=110)
