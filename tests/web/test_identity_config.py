"""Identity configuration: validated variables, the stand-in only where allowed, fail-closed production."""

import json

import pytest
from joserfc.jwk import ECKey

from core.settings import Settings, SettingsError
from gateway import create_app
from identity.oidc.client_auth import ClientSecretBasic, PrivateKeyJwt
from tests.conftest import make_test_settings
from web.identity_runtime import get_identity


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("GATEWAY_OIDC_ISSUER", "sso.example.gov.vn", "is not an issuer URL"),
    ("GATEWAY_OIDC_ISSUER", "https://sso.example.gov.vn?x=1", "is not an issuer URL"),
    ("GATEWAY_OIDC_SCOPES", "profile vneid", "must include the openid scope"),
    ("GATEWAY_OIDC_CLIENT_KEY_FILE", "/nonexistent/key.json", "no such file"),
    ("GATEWAY_OIDC_CLAIM_PERSONAL_ID", "so dinh danh", "is not a claim name"),
    ("GATEWAY_OIDC_CLIENT_SECRET", "short", "at least 16 characters"),
    ("GATEWAY_DEV_IDP_ENABLED", "maybe", "is not true or false"),
    ("GATEWAY_PERSONAL_DATA_KEY", "tiny", "at least 16 characters"),
])
def test_bad_identity_settings_name_their_variable(tmp_path, variable, value, message):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"GATEWAY_INSTANCE_PATH": str(tmp_path), variable: value})
    assert caught.value.variable == variable and message in str(caught.value)
    assert value not in str(caught.value) or "SECRET" not in variable


def test_secrets_are_hidden_from_display(tmp_path):
    settings = Settings.from_env({"GATEWAY_INSTANCE_PATH": str(tmp_path), "GATEWAY_OIDC_CLIENT_SECRET": "s" * 20,
                                  "GATEWAY_STAFF_OIDC_CLIENT_SECRET": "t" * 20, "GATEWAY_PERSONAL_DATA_KEY": "p" * 40})
    shown = settings.display()
    assert shown["GATEWAY_OIDC_CLIENT_SECRET"] == shown["GATEWAY_STAFF_OIDC_CLIENT_SECRET"] == "***"
    assert shown["GATEWAY_PERSONAL_DATA_KEY"] == "***"


def test_the_stand_in_is_on_by_default_and_off_in_production(tmp_path):
    assert Settings.from_env({"GATEWAY_INSTANCE_PATH": str(tmp_path)}).dev_idp_enabled
    production = {"GATEWAY_INSTANCE_PATH": str(tmp_path), "GATEWAY_ENV": "production", "GATEWAY_SECRET_KEY": "k" * 40,
                  "GATEWAY_BASE_URL": "https://pay.example.gov.vn", "GATEWAY_DATABASE_URL": "postgresql://db/gw",
                  "GATEWAY_QUEUE_URL": "redis://cache:6379/0"}
    assert not Settings.from_env(production).dev_idp_enabled


def test_a_real_provider_with_a_key_file_uses_private_key_jwt(tmp_path, database_url):
    key_file = tmp_path / "rp.jwk.json"
    key_file.write_text(json.dumps(ECKey.generate_key("P-256", private=True).as_dict(private=True)))
    app = create_app(make_test_settings(tmp_path, database_url, oidc_issuer="https://sso.example.gov.vn/realms/c",
                                        oidc_client_key_file=str(key_file), dev_idp_enabled="false",
                                        staff_oidc_issuer="https://login.example.gov.vn",
                                        staff_oidc_client_secret="x" * 20))
    runtime = get_identity(app)
    assert runtime.dev_idp is None and "devidp.discovery" not in app.view_functions
    assert isinstance(runtime.citizen.config.credentials, PrivateKeyJwt)
    assert isinstance(runtime.staff.config.credentials, ClientSecretBasic)
    assert runtime.citizen.config.redirect_uri == "http://localhost/auth/callback"
    app.extensions["gateway.runtime"].dispose()


def test_without_any_provider_login_fails_closed(tmp_path, database_url):
    app = create_app(make_test_settings(tmp_path, database_url, dev_idp_enabled="false"))
    client = app.test_client()
    assert client.get("/auth/login").status_code == 503
    assert client.get("/auth/staff/login").status_code == 503
    assert client.get("/dev-idp/jwks").status_code == 404
    app.extensions["gateway.runtime"].dispose()


def test_a_real_provider_without_credentials_stops_the_app_with_one_clear_line(tmp_path, database_url):
    with pytest.raises(SettingsError) as caught:
        create_app(make_test_settings(tmp_path, database_url, oidc_issuer="https://sso.example.gov.vn"))
    assert caught.value.variable == "GATEWAY_OIDC_CLIENT_SECRET"


def test_an_unreadable_client_key_stops_the_app_with_one_clear_line(tmp_path, database_url):
    key_file = tmp_path / "not-a-key.json"
    key_file.write_text('{"kty": "oct", "k": "c2VjcmV0"}')
    with pytest.raises(SettingsError) as caught:
        create_app(make_test_settings(tmp_path, database_url, oidc_issuer="https://sso.example.gov.vn",
                                      oidc_client_key_file=str(key_file)))
    assert caught.value.variable == "GATEWAY_OIDC_CLIENT_KEY_FILE"
