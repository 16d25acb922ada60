"""Guards for the package map: imports point down, domain packages stay Flask-free, vendor SDKs stay in their
one file, no eval."""

import ast
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT
from tests import provider_calls

DOMAIN_PACKAGES = ("core", "identity", "agencies", "payments", "subsidies", "parking", "mailing")
PROJECT_PACKAGES = (*DOMAIN_PACKAGES, "web", "citizen", "admin", "gateway")


def _python_files(*packages, root: Path = PROJECT_ROOT):
    for package in packages:
        yield from sorted((root / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


#: Which of our top-level packages each may import: arrows point down only (ARCHITECTURE.md, "The map").
#: The citizen app and the back office are siblings on the web platform; only the composition root
#: (``gateway``: app factory, CLI, seed) imports both.
MAY_IMPORT = {
    "core": set(),
    "identity": {"core"},
    "agencies": {"core", "identity"},
    "subsidies": {"core"},
    "payments": {"core", "subsidies", "agencies"},
    # Parking is built on bills, providers and the ledger, and priced by the subsidies engine.
    "parking": {"core", "identity", "agencies", "subsidies", "payments"},
    # E-mail to citizens (receipts, reminders) reads receipts and bills and identity's e-mail consent;
    # payments hears of nothing above it: it only calls the listeners registered with it.
    "mailing": {"core", "identity", "agencies", "subsidies", "payments"},
    "web": {"core", "identity", "agencies", "subsidies", "payments", "parking", "mailing"},
    "citizen": {"core", "identity", "agencies", "subsidies", "payments", "parking", "mailing", "web"},
    "admin": {"core", "identity", "agencies", "subsidies", "payments", "parking", "mailing", "web"},
    "gateway": {"core", "identity", "agencies", "subsidies", "payments", "parking", "mailing", "web", "citizen",
                "admin"},
}


def _crossings(root: Path = PROJECT_ROOT) -> set[tuple[str, str]]:
    """Every (file, package) where a file imports one of our packages its own may not import."""
    found = set()
    for package, allowed in MAY_IMPORT.items():
        for path in _python_files(package, root=root):
            for name in _imports(path):
                target = name.split(".")[0]
                if target in MAY_IMPORT and target != package and target not in allowed:
                    found.add((path.relative_to(root).as_posix(), target))
    return found


def test_every_import_between_our_packages_points_down():
    # Imports inside functions count too: the app factory's lazy import of the back office was one.
    assert _crossings() == set()


def test_a_planted_sideways_or_upward_import_is_found(tmp_path):
    planted = {"citizen/pages.py": "from admin import views\n",  # sideways: the two apps are siblings
               "payments/bills.py": "def later():\n    import web.database\n",  # upward, inside a function
               "web/errors.py": "from gateway.app import create_app\n",  # the platform reaching the root
               "admin/home.py": "from web import auth\nfrom payments import bills\n"}  # both allowed
    for name, source in planted.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(source)
    assert _crossings(tmp_path) == {("citizen/pages.py", "admin"), ("payments/bills.py", "web"),
                                    ("web/errors.py", "gateway")}


@pytest.mark.parametrize("path", list(_python_files(*DOMAIN_PACKAGES)), ids=str)
def test_domain_packages_import_no_flask(path):
    flask_like = {name for name in _imports(path) if name.split(".")[0] in ("flask", "werkzeug", "flask_babel")}
    assert not flask_like, f"{path} imports {flask_like}"


def test_core_imports_nothing_of_ours():
    ours = set(PROJECT_PACKAGES) - {"core"}
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
    for path in _python_files("core", "agencies", "payments", "subsidies", "parking", "web", "citizen", "admin",
                              "gateway"):
        roots = {n.split(".")[0] for n in _imports(path)}
        assert not roots & {"authlib", "jose", "joserfc"}, f"{path} imports {roots & {'authlib', 'jose', 'joserfc'}}"


def test_only_core_settings_reads_the_environment():
    for path in _python_files(*PROJECT_PACKAGES):
        if path == PROJECT_ROOT / "core" / "settings.py" or path.name == "cli.py":
            continue
        source = path.read_text(encoding="utf-8")
        assert "os.environ" not in source and "os.getenv" not in source, path


def test_no_provider_is_called_while_the_caller_holds_locks_or_writes():
    # Providers answer in seconds or time out: asked first, the answer written after (tests/provider_calls.py).
    providers = PROJECT_ROOT / "payments" / "providers"
    found = [line for path in _python_files(*PROJECT_PACKAGES) if providers not in path.parents
             for line in provider_calls.suspect_calls(path, PROJECT_ROOT)]
    assert found == []


def test_a_planted_provider_call_under_a_lock_in_a_loop_or_in_a_transaction_is_found(tmp_path):
    planted = tmp_path / "payments" / "planted.py"
    planted.parent.mkdir(parents=True)
    planted.write_text(
        "def under_a_lock(session, code):\n"
        "    bill, payment = lock_payment(session, code)\n"
        "    return get_provider(payment.provider).fetch_status(payment.provider_session_id)\n"
        "def in_a_loop(session, payments):\n"
        "    for payment in payments:\n"
        "        _tell(session, payment)\n"
        "def _tell(session, payment):\n"
        "    get_provider(payment.provider).refund(payment)\n"
        "    session.add(payment)\n"
        "def in_a_transaction(factory, payment):\n"
        "    with factory() as session, session.begin():\n"
        "        get_provider(payment.provider).cancel_session(payment.provider_session_id)\n"
        "def asked_first(session, payment):\n"
        "    report = get_provider(payment.provider).fetch_status(payment.provider_session_id)\n"
        "    lock_payment(session, payment.public_id)\n"
        "    return report\n")
    assert provider_calls.suspect_calls(planted, tmp_path) == [
        "payments/planted.py:3 under_a_lock", "payments/planted.py:6 in_a_loop",
        "payments/planted.py:12 in_a_transaction"]
