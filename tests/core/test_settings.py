import pytest

from core.settings import VARIABLES, Settings, SettingsError


def _settings(tmp_path, **env):
    base = {"GATEWAY_INSTANCE_PATH": str(tmp_path)}
    base.update(env)
    return Settings.from_env(base)


def test_embedded_defaults_need_no_configuration(tmp_path):
    settings = _settings(tmp_path)
    assert settings.env == "development"
    assert settings.database_url == f"sqlite:///{tmp_path / 'gateway.db'}"
    assert settings.queue_url.startswith("sqlite:///")
    assert len(settings.secret_key) >= 32
    # The generated key is kept, so sessions survive a restart.
    assert _settings(tmp_path).secret_key == settings.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("GATEWAY_DATABASE_URL", "nonsense", "is not a database URL"),
    ("GATEWAY_DATABASE_URL", "mysql://x@y/z", "unsupported database"),
    ("GATEWAY_ENV", "staging", "is not one of"),
    ("GATEWAY_BASE_URL", "localhost:8000", "is not an http(s) URL"),
    ("GATEWAY_SECRET_KEY", "short", "at least 32 characters"),
    ("GATEWAY_QUEUE_URL", "amqp://x", "is not a queue URL"),
    ("GATEWAY_JOB_LEASE_SECONDS", "ten", "is not a whole number"),
    ("GATEWAY_LOG_LEVEL", "LOUD", "is not one of"),
    ("GATEWAY_DOCUMENT_SIGNING_SECRETS", "too-short", "at least 32 characters each"),
    ("GATEWAY_LOGIN_RATE_LIMIT", "lots", "is not a rate limit"),
])
def test_a_bad_value_names_its_variable(tmp_path, variable, value, message):
    with pytest.raises(SettingsError) as caught:
        _settings(tmp_path, **{variable: value})
    assert str(caught.value).startswith(f"{variable}: ")
    assert message in str(caught.value)
    assert caught.value.variable == variable


def test_a_bad_secret_is_never_echoed(tmp_path):
    with pytest.raises(SettingsError) as caught:
        _settings(tmp_path, GATEWAY_SECRET_KEY="hunter2")
    assert "hunter2" not in str(caught.value)


def test_plain_postgresql_urls_use_psycopg3(tmp_path):
    settings = _settings(tmp_path, GATEWAY_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/test")
    assert settings.database_url == "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.mark.parametrize(("env", "variable"), [
    ({}, "GATEWAY_SECRET_KEY"),
    ({"GATEWAY_SECRET_KEY": "k" * 40}, "GATEWAY_BASE_URL"),
    ({"GATEWAY_SECRET_KEY": "k" * 40, "GATEWAY_BASE_URL": "https://pay.hanoi.gov.vn"}, "GATEWAY_DATABASE_URL"),
    ({"GATEWAY_SECRET_KEY": "k" * 40, "GATEWAY_BASE_URL": "https://pay.hanoi.gov.vn",
      "GATEWAY_DATABASE_URL": "postgresql://db/gw"}, "GATEWAY_QUEUE_URL"),
])
def test_production_refuses_laptop_settings(tmp_path, env, variable):
    with pytest.raises(SettingsError) as caught:
        _settings(tmp_path, GATEWAY_ENV="production", **env)
    assert caught.value.variable == variable


def test_production_accepts_a_complete_configuration(tmp_path):
    settings = _settings(tmp_path, GATEWAY_ENV="production", GATEWAY_SECRET_KEY="k" * 40,
                         GATEWAY_BASE_URL="https://pay.hanoi.gov.vn", GATEWAY_DATABASE_URL="postgresql://u:pw@db/gw",
                         GATEWAY_QUEUE_URL="redis://:qpass@cache:6379/0")
    assert settings.https and settings.production
    assert {"k" * 40, "pw", "qpass"} <= set(settings.secret_values())
    shown = settings.display()
    assert "pw" not in shown["GATEWAY_DATABASE_URL"] and shown["GATEWAY_SECRET_KEY"] == "***"


def test_every_variable_is_documented_in_the_readme():
    from core.settings import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [v.name for v in VARIABLES if f"`{v.name}`" not in readme]
    assert not missing, f"README configuration table lacks {missing}"


@pytest.mark.parametrize(("env", "variable"), [
    ({"GATEWAY_STRIPE_SECRET_KEY": "sk_test_abc"}, "GATEWAY_STRIPE_WEBHOOK_SECRETS"),
    ({"GATEWAY_STRIPE_SECRET_KEY": "pk_test_abc"}, "GATEWAY_STRIPE_SECRET_KEY"),
    ({"GATEWAY_STRIPE_WEBHOOK_SECRETS": "whsec_a,nope"}, "GATEWAY_STRIPE_WEBHOOK_SECRETS"),
    ({"GATEWAY_STRIPE_SECRET_KEY": "sk_test_abc", "GATEWAY_STRIPE_WEBHOOK_SECRETS": "whsec_a",
      "GATEWAY_PAYMENT_EXPIRY_MINUTES": "10"}, "GATEWAY_PAYMENT_EXPIRY_MINUTES"),
])
def test_a_stripe_set_up_that_cannot_confirm_payments_is_refused(tmp_path, env, variable):
    with pytest.raises(SettingsError) as caught:
        _settings(tmp_path, **env)
    assert caught.value.variable == variable


def test_each_webhook_secret_of_a_rotation_is_kept_out_of_logs(tmp_path):
    settings = _settings(tmp_path, GATEWAY_STRIPE_SECRET_KEY="sk_test_abc",
                         GATEWAY_STRIPE_WEBHOOK_SECRETS="whsec_old111, whsec_new222")
    assert settings.stripe_webhook_secrets == ("whsec_old111", "whsec_new222")
    assert {"whsec_old111", "whsec_new222", "sk_test_abc"} <= set(settings.secret_values())
    assert "whsec" not in settings.display()["GATEWAY_STRIPE_WEBHOOK_SECRETS"]


def test_document_signing_secrets_of_a_rotation_are_kept_in_order_and_out_of_logs(tmp_path):
    new, old = "n" * 32, "o" * 32
    settings = _settings(tmp_path, GATEWAY_DOCUMENT_SIGNING_SECRETS=f"{new}, {old}")
    assert settings.document_signing_secrets == (new, old)
    assert {new, old} <= set(settings.secret_values())
    assert new not in str(settings.display())


def test_the_sandbox_is_off_in_production_unless_asked_for(tmp_path):
    assert _settings(tmp_path).sandbox_enabled is True
    production = {"GATEWAY_ENV": "production", "GATEWAY_SECRET_KEY": "k" * 40,
                  "GATEWAY_BASE_URL": "https://pay.hanoi.gov.vn", "GATEWAY_DATABASE_URL": "postgresql://db/gw",
                  "GATEWAY_QUEUE_URL": "redis://cache:6379/0", "GATEWAY_OIDC_ISSUER": "https://vneid.example",
                  "GATEWAY_OIDC_CLIENT_SECRET": "s" * 20, "GATEWAY_STAFF_OIDC_ISSUER": "https://sso.example",
                  "GATEWAY_STAFF_OIDC_CLIENT_SECRET": "s" * 20, "GATEWAY_PERSONAL_DATA_KEY": "p" * 40}
    assert _settings(tmp_path, **production).sandbox_enabled is False


VNPAY = {"GATEWAY_VNPAY_TMN_CODE": "DEMOV210", "GATEWAY_VNPAY_HASH_SECRET": "h" * 32,
         "GATEWAY_VNPAY_PAYMENT_URL": "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html",
         "GATEWAY_VNPAY_API_URL": "https://sandbox.vnpayment.vn/merchant_webapi/api/transaction"}


@pytest.mark.parametrize("left_out", sorted(VNPAY))
def test_half_a_vnpay_terminal_is_refused_naming_what_is_missing(tmp_path, left_out):
    with pytest.raises(SettingsError) as caught:
        _settings(tmp_path, **{name: value for name, value in VNPAY.items() if name != left_out})
    assert caught.value.variable == left_out and "h" * 32 not in str(caught.value)


def test_a_vnpay_terminal_replaces_the_simulator_and_its_secret_stays_out_of_logs(tmp_path):
    assert _settings(tmp_path).vnpay_simulated is True
    settings = _settings(tmp_path, **VNPAY)
    assert settings.vnpay_simulated is False and settings.vnpay_tmn_code == "DEMOV210"
    assert "h" * 32 in settings.secret_values() and settings.display()["GATEWAY_VNPAY_HASH_SECRET"] == "***"
    with pytest.raises(SettingsError) as caught:
        _settings(tmp_path, GATEWAY_VNPAY_TMN_CODE="DEMO V210")
    assert caught.value.variable == "GATEWAY_VNPAY_TMN_CODE"


def test_production_has_no_vnpay_simulator_and_wants_https_for_vnpay(tmp_path):
    production = {"GATEWAY_ENV": "production", "GATEWAY_SECRET_KEY": "k" * 40,
                  "GATEWAY_BASE_URL": "https://pay.hanoi.gov.vn", "GATEWAY_DATABASE_URL": "postgresql://db/gw",
                  "GATEWAY_QUEUE_URL": "redis://cache:6379/0"}
    assert _settings(tmp_path, **production).vnpay_simulated is False
    with pytest.raises(SettingsError) as caught:
        _settings(tmp_path, **production, **{**VNPAY, "GATEWAY_VNPAY_API_URL": "http://vnpay.test/api"})
    assert caught.value.variable == "GATEWAY_VNPAY_API_URL"
