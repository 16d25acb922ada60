"""The migrations form one line, reach the models exactly, and run down and up again on both backends."""

import ast
from importlib import import_module

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from core.db import Base, make_engine
from core.migrations import alembic_config, head_revisions, upgrade
from core.settings import PROJECT_ROOT
from payments.providers import sandbox_store


def test_the_migrations_have_a_single_head():
    assert len(head_revisions()) == 1


def _import_every_model_module() -> None:
    """Import the modules migrations/env.py lists (read, not run: it only works inside Alembic)."""
    tree = ast.parse((PROJECT_ROOT / "migrations" / "env.py").read_text(encoding="utf-8"))
    listed = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                  and getattr(node.targets[0], "id", "") == "MODEL_MODULES")
    for module in ast.literal_eval(listed):
        import_module(module)


def test_the_schema_matches_the_models_after_upgrading(database_url):
    _import_every_model_module()
    engine = make_engine(database_url)
    with engine.connect() as connection:
        # The sandbox provider's sessions table belongs to the sandbox's own store, not to the migrations.
        context = MigrationContext.configure(connection, opts={"include_name": _not_the_sandbox_table})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def _not_the_sandbox_table(name, type_, _parent) -> bool:
    return not (type_ == "table" and name in sandbox_store.metadata.tables)


def test_downgrade_to_nothing_and_upgrade_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    upgrade(url)
    script = ScriptDirectory.from_config(alembic_config(url))
    assert [r.revision for r in script.walk_revisions()][-1] == "0001"
