"""Guards for the package map: domain packages stay Flask-free, vendor SDKs stay in their one file, no eval."""

import ast
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT

DOMAIN_PACKAGES = ("core", "identity", "payments", "subsidies")
PROJECT_PACKAGES = (*DOMAIN_PACKAGES, "gateway", "admin")


def _python_files(*packages):
    for package in packages:
        yield from sorted((PROJECT_ROOT / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", list(_python_files(*DOMAIN_PACKAGES)), ids=str)
def test_domain_packages_import_no_flask(path):
    flask_like = {name for name in _imports(path) if name.split(".")[0] in ("flask", "werkzeug", "flask_babel")}
    assert not flask_like, f"{path} imports {flask_like}"


def test_core_imports_nothing_of_ours():
    ours = {"identity", "payments", "subsidies", "gateway", "admin"}
    for path in _python_files("core"):
        assert not {n for n in _imports(path) if n.split(".")[0] in ours}, path


def test_no_eval_or_exec_anywhere():
    for path in _python_files(*PROJECT_PACKAGES):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert not calls & {"eval", "exec", "compile"}, f"{path} calls {calls & {'eval', 'exec', 'compile'}}"


def test_stripe_is_imported_only_by_its_provider():
    allowed = PROJECT_ROOT / "payments" / "providers" / "stripe.py"
    for path in _python_files(*PROJECT_PACKAGES):
        if path != allowed:
            assert "stripe" not in {n.split(".")[0] for n in _imports(path)}, path


def test_oidc_libraries_stay_inside_identity():
    for path in _python_files("core", "payments", "subsidies", "gateway", "admin"):
        roots = {n.split(".")[0] for n in _imports(path)}
        assert not roots & {"authlib", "jose", "joserfc"}, f"{path} imports {roots & {'authlib', 'jose', 'joserfc'}}"


def test_only_core_settings_reads_the_environment():
    for path in _python_files(*PROJECT_PACKAGES):
        if path == PROJECT_ROOT / "core" / "settings.py" or path.name == "cli.py":
            continue
        source = path.read_text(encoding="utf-8")
        assert "os.environ" not in source and "os.getenv" not in source, path
