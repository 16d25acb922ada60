"""The bank feeds a process knows: parsed from GATEWAY_BANK_CONNECTIONS, or the dev-bank stand-in outside production."""

from __future__ import annotations

import pytest

from core.settings import Settings, SettingsError
from web.runtime import DEV_BANK_ACCOUNT, bank_feeds, dev_bank_key

KEY = "k" * 24


def _settings(tmp_path, **env) -> Settings:
    return Settings.from_env({"GATEWAY_INSTANCE_PATH": str(tmp_path), **env})


def test_configured_feeds_authenticate_by_api_key_or_hmac_in_the_header_given(tmp_path):
    raw = f"vcb-stp=0071000888888:apikey:{KEY},mb-ca=123456789:hmac:{KEY}:X-SePay-Signature"
    feeds = bank_feeds(_settings(tmp_path, GATEWAY_BANK_CONNECTIONS=raw))
    assert set(feeds) == {"vcb-stp", "mb-ca"}
    assert (feeds["vcb-stp"].account_number, feeds["vcb-stp"].api_key) == ("0071000888888", KEY)
    assert (feeds["mb-ca"].hmac_secret, feeds["mb-ca"].signature_header) == (KEY, "X-SePay-Signature")


@pytest.mark.parametrize("raw", [f"vcb=0071:token:{KEY}", "vcb=0071:apikey:short", f"VCB=0071:apikey:{KEY}",
                                 f"vcb=0071:apikey:{KEY},vcb=0072:apikey:{KEY}"])
def test_a_malformed_or_repeated_connection_is_refused_without_echoing_its_key(tmp_path, raw):
    with pytest.raises(SettingsError) as caught:
        _settings(tmp_path, GATEWAY_BANK_CONNECTIONS=raw)
    assert caught.value.variable == "GATEWAY_BANK_CONNECTIONS" and KEY not in str(caught.value)


def test_without_configured_feeds_development_gets_the_dev_bank_and_production_none(tmp_path):
    development = _settings(tmp_path)
    (feed,) = bank_feeds(development).values()
    assert (feed.name, feed.account_number, feed.api_key) == ("dev-bank", DEV_BANK_ACCOUNT,
                                                              dev_bank_key(development.secret_key))
    production = Settings.from_env({}, env="production", database_url="postgresql://u@db/gateway",
                                   base_url="https://pay.example.vn", secret_key="p" * 40,
                                   queue_url="redis://127.0.0.1:6379/0")
    assert bank_feeds(production) == {}
