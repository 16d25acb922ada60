"""identity is a domain package: no Flask, no environment, and JOSE libraries stay inside it."""

import ast
from pathlib import Path

from core.settings import PROJECT_ROOT

IDENTITY = PROJECT_ROOT / "identity"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_identity_imports_no_flask_and_reads_no_environment():
    for path in IDENTITY.rglob("*.py"):
        modules = imported_modules(path)
        assert not modules & {"flask", "flask_babel", "flask_wtf", "werkzeug"}, path
        source = path.read_text(encoding="utf-8")
        assert "os.environ" not in source and "getenv" not in source, path


def test_jose_libraries_are_used_only_inside_identity():
    for package in ("core", "gateway", "admin", "payments", "subsidies"):
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            assert not imported_modules(path) & {"authlib", "jose", "joserfc"}, path
