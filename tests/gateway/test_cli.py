"""The operator commands: one clear line for bad configuration, idempotent seed, migrate to head."""

import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from core.db import make_engine, make_session_factory
from core.geography import Province
from core.migrations import pending_migrations
from core.settings import PROJECT_ROOT
from gateway import create_app
from gateway.app import StartupRefused
from tests.conftest import make_test_settings


def _gateway(*args, **env):
    return subprocess.run([sys.executable, "-m", "gateway", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120)


def test_a_bad_database_url_stops_with_one_line_naming_the_variable(tmp_path):
    result = _gateway("migrate", GATEWAY_DATABASE_URL="nonsense", GATEWAY_INSTANCE_PATH=str(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "GATEWAY_DATABASE_URL" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_migrate_then_seed_twice_adds_the_reference_data_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'gw.db'}"
    env = {"GATEWAY_DATABASE_URL": url, "GATEWAY_INSTANCE_PATH": str(tmp_path)}
    assert _gateway("migrate", **env).returncode == 0
    first = _gateway("seed", **env)
    second = _gateway("seed", **env)
    assert first.returncode == second.returncode == 0
    assert "34 added" in first.stdout
    assert all(line.endswith(": 0 added") for line in second.stdout.strip().splitlines())
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Province)) == 34
    assert not pending_migrations(engine)
    engine.dispose()


def test_check_config_hides_secrets(tmp_path):
    result = _gateway("check-config", GATEWAY_INSTANCE_PATH=str(tmp_path), GATEWAY_SECRET_KEY="z" * 40,
                      GATEWAY_DATABASE_URL="postgresql://app:hunter2hunter2@db/gw")
    assert result.returncode == 0
    assert "zzzz" not in result.stdout and "hunter2" not in result.stdout
    assert "GATEWAY_SECRET_KEY=***" in result.stdout


def test_production_refuses_to_serve_with_pending_migrations(tmp_path, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("production runs on PostgreSQL only")
    empty = make_engine(database_url)
    settings = make_test_settings(tmp_path, database_url, env="production", base_url="https://pay.example.gov.vn",
                                  queue_url="redis://127.0.0.1:6379/14")
    with empty.begin() as connection:
        connection.exec_driver_sql("DELETE FROM alembic_version")
        connection.exec_driver_sql("INSERT INTO alembic_version VALUES ('0000')")
    try:
        with pytest.raises(StartupRefused, match="pending migrations"):
            create_app(settings)
    finally:
        with empty.begin() as connection:
            connection.exec_driver_sql("DELETE FROM alembic_version")
        from core.migrations import head_revisions
        with empty.begin() as connection:
            for revision in head_revisions():
                connection.exec_driver_sql(f"INSERT INTO alembic_version VALUES ('{revision}')")
        empty.dispose()
    app = create_app(settings)
    assert app.extensions["gateway.settings"].production
    app.extensions["gateway.runtime"].dispose()


@pytest.mark.slow
def test_serve_runs_gunicorn_whose_every_log_line_is_json(tmp_path):
    import json
    import signal
    import time
    import urllib.request

    from bench.http import free_port

    env = {"GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gw.db'}", "GATEWAY_INSTANCE_PATH": str(tmp_path)}
    assert _gateway("migrate", **env).returncode == 0
    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--bind", f"127.0.0.1:{port}"],
                              cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline, answered = time.monotonic() + 60, None
        while time.monotonic() < deadline and answered is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    answered = json.load(response)
            except OSError:
                time.sleep(0.2)
        assert answered == {"status": "ok"}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.seek(0)
        output = log.read()
        log.close()
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines[0] == f"serving on http://127.0.0.1:{port}"
    records = [json.loads(line) for line in lines[1:]]  # every later line parses as JSON
    assert any(r["logger"] == "gateway.access" and r["path"] == "/healthz" for r in records)


def test_serve_stops_with_one_line_when_the_app_cannot_be_built(tmp_path):
    env = {"GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gw.db'}", "GATEWAY_INSTANCE_PATH": str(tmp_path),
           "GATEWAY_OIDC_ISSUER": "https://vneid.example.gov.vn"}  # a real provider but no client secret or key
    assert _gateway("migrate", **env).returncode == 0
    result = _gateway("serve", "--bind", "127.0.0.1:1", **env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "GATEWAY_OIDC" in lines[0] and "Traceback" not in result.stderr
