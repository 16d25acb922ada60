"""The relying party against a certified third-party provider (npm ``oidc-provider``) on loopback.

The provider is installed from the committed ``tests/oidc_provider/package-lock.json`` (``npm ci``) and
started per module with PKCE required, ES256 ID tokens, RFC 9207 ``iss`` and two clients: one with
``client_secret_basic``, one with ``private_key_jwt``. Skipped locally when node is missing; under CI it
must run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from joserfc.jwk import ECKey

from bench.http import free_port
from core.clock import SYSTEM_CLOCK
from core.settings import PROJECT_ROOT
from identity.errors import LoginRejected
from identity.levels import AcrLevels
from identity.oidc.client_auth import ClientSecretBasic, PrivateKeyJwt
from identity.oidc.http import RequestsHttpClient
from identity.oidc.provider_keys import ProviderKeys
from identity.oidc.relying_party import ProviderConfig, RelyingParty

PROVIDER_DIR = PROJECT_ROOT / "tests" / "oidc_provider"
REDIRECT = "http://127.0.0.1:9/rp/callback"  # never contacted: the test stops at the redirect
SECRET = "interop-secret-0123456789abcdef"
BROWSER = "b" * 43
CITIZEN = {"name": "Nguyễn Văn An", "birthdate": "1985-03-14", "so_dinh_danh": "001085012345",
           "ma_tinh_thuong_tru": "01", "ma_xa_thuong_tru": "00004"}
RP_KEY = ECKey.generate_key("P-256", parameters={"kid": "rp-interop", "alg": "ES256"}, private=True)


def _node_ready() -> bool:
    if shutil.which("node") is None or shutil.which("npm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node and npm are required in CI for the oidc-provider interop tests", pytrace=False)
        return False
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PROVIDER_DIR, check=True,
                       capture_output=True, timeout=300)
    return True


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    """A running oidc-provider; yields its issuer URL."""
    if not _node_ready():
        pytest.skip("node/npm not installed")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    op_key = ECKey.generate_key("P-256", parameters={"kid": "op-interop", "alg": "ES256", "use": "sig"},
                                private=True)
    common = {"redirect_uris": [REDIRECT], "response_types": ["code"], "grant_types": ["authorization_code"],
              "id_token_signed_response_alg": "ES256", "post_logout_redirect_uris": [REDIRECT]}
    config = {
        "issuer": issuer, "port": port, "cookieKey": "k" * 32, "jwks": {"keys": [op_key.as_dict(private=True)]},
        "acrValues": ["urn:vn:vneid:loa:1", "urn:vn:vneid:loa:2"], "accounts": {"c-001": CITIZEN},
        "clients": [
            {**common, "client_id": "rp-basic", "client_secret": SECRET,
             "token_endpoint_auth_method": "client_secret_basic"},
            {**common, "client_id": "rp-pkjwt", "token_endpoint_auth_method": "private_key_jwt",
             "token_endpoint_auth_signing_alg": "ES256", "jwks": {"keys": [RP_KEY.as_dict(private=False)]}},
        ],
    }
    config_file = tmp_path_factory.mktemp("op") / "config.json"
    config_file.write_text(json.dumps(config))
    log = (config_file.parent / "op.log").open("w+")
    process = subprocess.Popen(["node", "server.mjs", str(config_file)], cwd=PROVIDER_DIR, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        _wait_for(f"{issuer}/.well-known/openid-configuration", process, log)
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _wait_for(url: str, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"oidc-provider exited: {log.read()[-2000:]}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError("oidc-provider did not start")


def relying_party(issuer: str, method: str) -> RelyingParty:
    credentials = (ClientSecretBasic("rp-basic", SECRET) if method == "client_secret_basic"
                   else PrivateKeyJwt("rp-pkjwt", RP_KEY.as_dict(private=True)))
    http = RequestsHttpClient()
    config = ProviderConfig(realm="citizen", issuer=issuer, credentials=credentials, redirect_uri=REDIRECT,
                            post_logout_redirect_uri=REDIRECT, scopes=("openid", "profile", "vneid"),
                            acr_levels=AcrLevels("urn:vn:vneid:loa:1", "urn:vn:vneid:loa:2"))
    return RelyingParty(config, ProviderKeys(issuer, http, clock=SYSTEM_CLOCK), http, SYSTEM_CLOCK)


_PROMPT = re.compile(r'name="prompt" value="(\w+)"')
_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


def browse(start_url: str, account: str = "c-001") -> dict[str, str]:
    """Play the person at the provider's dev login and consent pages; return the callback parameters."""
    browser, url = requests.Session(), start_url
    for _ in range(12):
        response = browser.get(url, allow_redirects=False, timeout=5)
        while response.status_code == 200:  # an interaction page: log in, then consent
            prompt, action = _PROMPT.search(response.text).group(1), _ACTION.search(response.text).group(1)
            form = {"prompt": prompt, "login": account, "password": "x"} if prompt == "login" else {"prompt": prompt}
            response = browser.post(urljoin(url, action), data=form, allow_redirects=False, timeout=5)
        location = urljoin(url, response.headers["Location"])
        if location.startswith(REDIRECT):
            return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        url = location
    raise AssertionError("the provider never redirected back")


@pytest.mark.parametrize("method", ["client_secret_basic", "private_key_jwt"])
def test_login_against_oidc_provider(provider, db, method):
    rp = relying_party(provider, method)
    params = browse(rp.authorization_url(db, next_path="/", browser_key=BROWSER))
    assert params["iss"] == provider  # RFC 9207, checked by the relying party
    verified = rp.complete(db, params, BROWSER)
    assert verified.claims["sub"] == "c-001" and verified.claims["so_dinh_danh"] == "001085012345"
    assert verified.id_token.header["alg"] == "ES256"


@pytest.mark.parametrize("method", ["client_secret_basic", "private_key_jwt"])
def test_code_replay_and_stolen_codes_fail_against_oidc_provider(provider, db, method):
    rp = relying_party(provider, method)
    victim = browse(rp.authorization_url(db, next_path="/", browser_key=BROWSER))
    attacker = browse(rp.authorization_url(db, next_path="/", browser_key=BROWSER))
    with pytest.raises(LoginRejected) as stolen:  # the attacker's code in the victim's flow: PKCE mismatch
        rp.complete(db, {**victim, "code": attacker["code"]}, BROWSER)
    assert stolen.value.reason == "token_request_invalid_grant"
    fresh = browse(rp.authorization_url(db, next_path="/", browser_key=BROWSER))
    rp.complete(db, fresh, BROWSER)
    with pytest.raises(LoginRejected) as replayed:
        rp.complete(db, fresh, BROWSER)
    assert replayed.value.reason == "state_reused"


def test_mix_up_and_login_csrf_fail_against_oidc_provider(provider, db):
    rp = relying_party(provider, "client_secret_basic")
    params = browse(rp.authorization_url(db, next_path="/", browser_key=BROWSER))
    with pytest.raises(LoginRejected) as mixed:
        rp.complete(db, {**params, "iss": "http://127.0.0.1:1"}, BROWSER)
    assert mixed.value.reason == "iss_parameter_mismatch"
    other = browse(rp.authorization_url(db, next_path="/", browser_key=BROWSER))
    with pytest.raises(LoginRejected) as forged:
        rp.complete(db, other, "another-browser-" + "x" * 27)
    assert forged.value.reason == "state_other_browser"


def test_discovery_of_oidc_provider_is_accepted_only_for_its_exact_issuer(provider):
    from identity.errors import TokenRejected

    assert ProviderKeys(provider, RequestsHttpClient()).metadata()["issuer"] == provider
    with pytest.raises(TokenRejected):
        ProviderKeys(provider + "/", RequestsHttpClient(),
                     discovery_url=f"{provider}/.well-known/openid-configuration").metadata()
    assert Path(PROVIDER_DIR / "package-lock.json").exists()
