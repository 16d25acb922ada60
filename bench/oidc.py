"""Logins per second through the whole code flow against the bundled VNeID stand-in, the cost of one
ID-token verification with a warm JWKS cache, and proof that 1,000 logins make at most one JWKS fetch.

Everything runs in-process through Flask's test client (no network), so the numbers measure the gateway
and the stand-in, not sockets. Baselines from the same run: ``GET /healthz`` through the same client, and
the bare ES256 signature check that every verification must pay.
"""

from __future__ import annotations

import html
import re
import tempfile
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from joserfc import jws

from core.clock import UTC
from core.migrations import upgrade
from core.settings import Settings
from gateway import create_app
from identity.devidp.accounts import CITIZENS
from identity.oidc.id_token import Expectations, verify_id_token
from web.identity_runtime import get_identity

LOGINS = 1000
VERIFICATIONS = 2000
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def _local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _login(client, subject: str) -> None:
    chooser = client.get(_local(client.get("/auth/login").location))
    fields = {k: html.unescape(v) for k, v in _HIDDEN.findall(chooser.get_data(as_text=True))}
    chosen = client.post("/dev-idp/authorize", data={**fields, "account": subject})
    finished = client.get(_local(chosen.location))
    if finished.status_code != 302 or "/auth/" in finished.location:
        raise SystemExit(f"login failed: {finished.status_code} {finished.location}")


def _consent(client, subject: str) -> None:
    chooser = client.get(_local(client.get("/auth/login").location))
    fields = {k: html.unescape(v) for k, v in _HIDDEN.findall(chooser.get_data(as_text=True))}
    callback = client.post("/dev-idp/authorize", data={**fields, "account": subject})
    consent_page = client.get(_local(client.get(_local(callback.location)).location))
    token = dict(_HIDDEN.findall(consent_page.get_data(as_text=True)))["csrf_token"]
    client.post("/account/consent", data={"csrf_token": token, "next": "/account/"})


def _rate(count: int, action) -> float:
    started = time.perf_counter()
    for _ in range(count):
        action()
    return count / (time.perf_counter() - started)


def run() -> dict[str, float]:
    """Measure and print; return the numbers."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.from_env({}, env="test", instance_path=folder, database_url=f"sqlite:///{folder}/b.db",
                                     queue_url="memory://", secret_key="b" * 40, base_url="http://localhost",
                                     log_level="WARNING")
        upgrade(settings.database_url)
        app = create_app(settings)
        client = app.test_client()
        subject = CITIZENS[0].subject
        keys = get_identity(app).citizen.keys
        fetches_before = keys.jwks_fetches  # 0: the cache starts cold, the first login fetches
        _consent(client, subject)
        healthz = _rate(LOGINS, lambda: client.get("/healthz"))
        logins = _rate(LOGINS, lambda: _login(client, subject))
        fetches = keys.jwks_fetches - fetches_before
        verify_us, bare_us = _verification_cost(app, keys, Path(folder))
        app.extensions["gateway.runtime"].dispose()
    print(f"in-process (Flask test client, SQLite), {LOGINS} + 1 logins of one citizen through the whole code flow")
    print(f"  {'GET /healthz (baseline)':34} {healthz:10,.0f} req/s")
    print(f"  {'full login (4 requests)':34} {logins:10,.0f} logins/s   ({healthz / logins:.1f}x a healthz)")
    print(f"  {'JWKS fetches, cold start included':34} {fetches:10d}   (at most 1 allowed)")
    print(f"  {'bare ES256 signature check':34} {bare_us:10.1f} us")
    overhead = verify_us / bare_us
    print(f"  {'ID-token verification, warm JWKS':34} {verify_us:10.1f} us   ({overhead:.2f}x the bare check)")
    if fetches > 1:
        raise SystemExit(f"{fetches} JWKS fetches for {LOGINS} logins: the cache is not working")
    return {"logins_per_second": logins, "healthz_per_second": healthz, "jwks_fetches": fetches,
            "verify_us": verify_us, "bare_verify_us": bare_us}


def _verification_cost(app, keys, folder: Path) -> tuple[float, float]:
    with app.app_context():
        from identity.models import LoginFlow, WebSession
        from web.database import db_session

        session = db_session()
        row = session.query(WebSession).order_by(WebSession.created_at.desc()).first()
        nonce = session.query(LoginFlow).order_by(LoginFlow.created_at.desc()).first().nonce
        token, issuer, client_id = row.id_token, row.issuer, get_identity(app).citizen.config.client_id
    now = datetime.now(UTC)
    expect = Expectations(issuer=issuer, client_id=client_id, nonce=nonce, now=now)
    verify_id_token(token, keys, expect)  # warm, and proves the token is good
    key = keys.key_set().keys[0]
    verify = _rate(VERIFICATIONS, lambda: verify_id_token(token, keys, expect))
    bare = _rate(VERIFICATIONS, lambda: jws.deserialize_compact(token, key, algorithms=["ES256"]))
    return 1e6 / verify, 1e6 / bare


if __name__ == "__main__":
    run()
