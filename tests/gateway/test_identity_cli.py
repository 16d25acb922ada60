"""``python -m gateway create-admin`` makes the first system admin; ``seed`` adds one demo staff per role."""

import os
import subprocess
import sys

from sqlalchemy import select

from core.db import make_engine, make_session_factory
from core.settings import PROJECT_ROOT
from identity.models import AuditEvent, StaffAccount


def _gateway(*args, **env):
    return subprocess.run([sys.executable, "-m", "gateway", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120)


def test_create_admin_then_seed_demo_staff(tmp_path):
    url = f"sqlite:///{tmp_path / 'gw.db'}"
    env = {"GATEWAY_DATABASE_URL": url, "GATEWAY_INSTANCE_PATH": str(tmp_path)}
    assert _gateway("migrate", **env).returncode == 0
    made = _gateway("create-admin", "--subject", "chief-it", "--name", "Trưởng phòng CNTT", **env)
    assert made.returncode == 0 and "is now a system admin" in made.stdout
    again = _gateway("create-admin", "--subject", "chief-it", **env)
    assert "was already a system admin" in again.stdout
    first, second = _gateway("seed", **env), _gateway("seed", **env)
    assert "demo staff of the VNeID stand-in: 5 added" in first.stdout
    assert "demo staff of the VNeID stand-in: 0 added" in second.stdout
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        chief = session.scalars(select(StaffAccount).where(StaffAccount.subject == "chief-it")).one()
        assert chief.issuer == "http://127.0.0.1:8000/dev-idp" and chief.role_names == {"system_admin"}
        assert len(session.scalars(select(StaffAccount)).all()) == 6
        grants = session.scalars(select(AuditEvent).where(AuditEvent.event == "role_granted")).all()
        assert len(grants) == 6 and grants[0].actor == "cli"
    engine.dispose()


def test_dev_idp_keys_rotate_then_retire(tmp_path):
    env = {"GATEWAY_INSTANCE_PATH": str(tmp_path)}
    first = _gateway("dev-idp-keys", **env).stdout.split()[0]
    rotated = _gateway("dev-idp-keys", "--rotate", **env)
    new = rotated.stdout.split()[3]
    assert f"{new}  (signing)" in rotated.stdout and first in rotated.stdout
    assert _gateway("dev-idp-keys", "--retire", new, **env).returncode == 1  # never the signing key
    retired = _gateway("dev-idp-keys", "--retire", first, **env)
    assert retired.returncode == 0 and first not in retired.stdout.splitlines()[-1]
    assert (tmp_path / "devidp_keys.json").stat().st_mode & 0o077 == 0
